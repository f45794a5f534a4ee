import { VersionsError } from "./errors.js";

/** Caps on one upload. */
export interface UploadLimits {
  /** Default 1000. */
  readonly maxFiles: number;
  /** Default 5 MiB. */
  readonly maxFileBytes: number;
  /** Default 25 MiB. */
  readonly maxTotalBytes: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxFiles: 1000,
  maxFileBytes: 5 * 1024 * 1024,
  maxTotalBytes: 25 * 1024 * 1024,
};

/** Longest upload path, in characters, and longest segment, in UTF-8 bytes (ext4's NAME_MAX). */
const MAX_PATH_CHARS = 1024;
const MAX_SEGMENT_BYTES = 255;

/** The one dot-directory an upload may hold: RFC 8615 well-known URIs (static assets). */
const ALLOWED_DOT_SEGMENTS: ReadonlySet<string> = new Set([".well-known"]);

/** An upload's files: relative path (forward slashes) -> contents. */
export type UploadFiles = Readonly<Record<string, string | Uint8Array>>;

/** A checked upload file, with its contents as bytes. */
export interface CheckedFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

function fail(code: ConstructorParameters<typeof VersionsError>[0], file: string, why: string): never {
  // JSON.stringify: the path is untrusted and may hold control characters.
  throw new VersionsError(code, `upload path ${JSON.stringify(file)}: ${why}`);
}

/**
 * Checks one upload path: relative, `/`-separated, no `.`/`..`/empty
 * segment, no NUL, no other control character, no backslash, no segment
 * starting with `.` except `.well-known`, bounded lengths.
 */
export function checkUploadPath(file: string): void {
  if (file === "") fail("EDGE_VERSIONS_PATH_EMPTY", file, "empty");
  if (file.includes("\0")) fail("EDGE_VERSIONS_PATH_NUL", file, "holds a NUL byte");
  if (/[\u0001-\u001f\u007f]/.test(file)) fail("EDGE_VERSIONS_PATH_CONTROL", file, "holds a control character");
  if (file.includes("\\")) fail("EDGE_VERSIONS_PATH_BACKSLASH", file, "holds a backslash");
  if (file.startsWith("/")) fail("EDGE_VERSIONS_PATH_ABSOLUTE", file, "is absolute");
  if (file.length > MAX_PATH_CHARS) fail("EDGE_VERSIONS_PATH_TOO_LONG", file, `longer than ${MAX_PATH_CHARS} characters`);
  for (const segment of file.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      fail("EDGE_VERSIONS_PATH_TRAVERSAL", file, "has an empty, . or .. segment");
    }
    if (segment.startsWith(".") && !ALLOWED_DOT_SEGMENTS.has(segment)) {
      fail("EDGE_VERSIONS_PATH_HIDDEN", file, `segment "${segment}" starts with a dot`);
    }
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      fail("EDGE_VERSIONS_PATH_TOO_LONG", file, `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
    }
  }
}

/** The key two paths collide on where file systems fold case or normalise Unicode (macOS, Windows volumes, some mounts). */
function foldedKey(file: string): string {
  return file.normalize("NFC").toLowerCase();
}

/**
 * Checks every path of an upload and the caps, and returns the files as
 * bytes, sorted by path. Two paths that differ only in case or Unicode
 * normalisation are refused: on a folding file system one would overwrite
 * the other, and on any they let an upload show one file and run another.
 *
 * @throws VersionsError with the code of the first problem found.
 */
export function checkUpload(files: UploadFiles, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): CheckedFile[] {
  const names = Object.keys(files);
  if (names.length > limits.maxFiles) {
    throw new VersionsError("EDGE_VERSIONS_UPLOAD_TOO_MANY_FILES", `upload has ${names.length} files; at most ${limits.maxFiles} are allowed`);
  }
  const checked: CheckedFile[] = [];
  const seen = new Map<string, string>();
  let totalBytes = 0;
  for (const name of names.sort()) {
    checkUploadPath(name);
    const key = foldedKey(name);
    const earlier = seen.get(key);
    if (earlier !== undefined) fail("EDGE_VERSIONS_PATH_DUPLICATE", name, `collides with ${JSON.stringify(earlier)}`);
    seen.set(key, name);
    const contents = files[name];
    const bytes = typeof contents === "string" ? Buffer.from(contents, "utf8") : contents;
    if (bytes === undefined) continue;
    if (bytes.byteLength > limits.maxFileBytes) {
      fail("EDGE_VERSIONS_UPLOAD_FILE_TOO_LARGE", name, `${bytes.byteLength} bytes; at most ${limits.maxFileBytes} per file`);
    }
    totalBytes += bytes.byteLength;
    if (totalBytes > limits.maxTotalBytes) {
      throw new VersionsError("EDGE_VERSIONS_UPLOAD_TOO_LARGE", `upload is larger than ${limits.maxTotalBytes} bytes`);
    }
    checked.push({ path: name, bytes });
  }
  // A path that is also a directory of another ("a" and "a/b") cannot both be written.
  for (const name of seen.keys()) {
    const segments = name.split("/");
    for (let i = 1; i < segments.length; i += 1) {
      const parent = seen.get(segments.slice(0, i).join("/"));
      if (parent !== undefined) fail("EDGE_VERSIONS_PATH_DUPLICATE", parent, "is both a file and a directory of the upload");
    }
  }
  return checked;
}
