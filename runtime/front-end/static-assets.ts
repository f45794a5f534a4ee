import { constants, type BigIntStats } from "node:fs";
import { open, realpath, stat, type FileHandle } from "node:fs/promises";
import { join, sep } from "node:path";
import { RuntimeError } from "../errors.js";
import { assetRelativePath, isPlainName } from "./asset-path.js";
import { byteRange } from "./byte-range.js";
import { evaluatePreconditions, httpDate, isRangeStillValid, type Conditions, type Validators } from "./conditional-request.js";
import { contentTypeFor } from "./content-types.js";
import { FileBody } from "./file-body.js";

/** A static file's answer, for the response writer. */
export interface AssetResponse {
  /** 200, 206 (a range), 304 (not modified), 412 (If-Match failed) or 416 (range unsatisfiable). */
  readonly status: 200 | 206 | 304 | 412 | 416;
  /** Flat name/value list, names lower-case. No Content-Length: the writer derives it from the body. */
  readonly headers: readonly string[];
  /** The bytes to send (the receiver must read it to the end or cancel it), or null for none. */
  readonly body: FileBody | null;
}

/** What the front end asks before it calls an app (implemented by StaticAssets). */
export interface AssetSource {
  /**
   * The static answer for a request, or undefined when no file answers it
   * and the request goes to the app. `pathname` is the request's WHATWG
   * pathname, `headers` uWS's flat list (names lower-case).
   */
  lookup(method: string, pathname: string, headers: readonly string[]): Promise<AssetResponse | undefined>;
}

export interface StaticAssetsOptions {
  /** Cache-Control on every answer. Default: revalidate every time, as Cloudflare's static assets do. */
  readonly cacheControl?: string;
}

const DEFAULT_CACHE_CONTROL = "public, max-age=0, must-revalidate";
/**
 * Read-only; never follow a symlink in the last component (the path was
 * resolved just before; a link there now was put there since); do not block
 * the pool thread opening a FIFO.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Errors that mean "no servable file there": the app answers instead. */
const NOT_THERE = new Set(["ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG", "EACCES", "EISDIR", "EPERM"]);

/**
 * One app's assets directory, served by the front end with no isolate.
 *
 * Containment: the request path is decoded and checked name by name
 * (asset-path.ts), then the file's real path (symlinks resolved) must lie
 * inside the directory's real path and hold no dot-named component, then
 * the file is opened without following a final symlink and must be a
 * regular file. So neither `..` in any encoding nor a symlink out of the
 * directory serves a file outside it. Symlinks that stay inside are
 * followed. The checks run on every request (nothing is cached: a file
 * changed, added or removed is seen by the next request); what is left is
 * a swap of a directory for a symlink between the resolve and the open,
 * which needs write access to the directory, which tenants do not have
 * (deployed versions are immutable).
 *
 * Validators: a strong ETag from size, modification time (ns) and inode,
 * no content hash, so nothing reads a file to answer a 304; a file
 * rewritten in place with the same size within the same nanosecond keeps
 * its ETag (nginx makes the same trade).
 */
export class StaticAssets implements AssetSource {
  /** The directory's real path. */
  readonly root: string;
  readonly #rootPrefix: string;
  readonly #cacheControl: string;

  private constructor(root: string, options: StaticAssetsOptions) {
    this.root = root;
    this.#rootPrefix = root.endsWith(sep) ? root : root + sep;
    this.#cacheControl = options.cacheControl ?? DEFAULT_CACHE_CONTROL;
  }

  /** Serve `dir`. Rejects with RuntimeError `EDGE_RUNTIME_BAD_ASSETS_DIR` when it is not a directory. */
  static async open(dir: string, options: StaticAssetsOptions = {}): Promise<StaticAssets> {
    let root: string;
    try {
      root = await realpath(dir);
      if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RuntimeError("EDGE_RUNTIME_BAD_ASSETS_DIR", `assets directory ${dir}: ${reason}`);
    }
    return new StaticAssets(root, options);
  }

  /**
   * GET and HEAD only; any other method, and any path that names no
   * regular file inside the directory, gives undefined (the app answers).
   * `/` and `/docs/` are answered with their `index.html`; `/docs`, a
   * directory, goes to the app. Rejects only on unexpected I/O errors
   * (EMFILE, EIO), which the server answers with 500.
   */
  async lookup(method: string, pathname: string, headers: readonly string[]): Promise<AssetResponse | undefined> {
    if (method !== "GET" && method !== "HEAD") return undefined;
    const relative = assetRelativePath(pathname);
    if (relative === undefined) return undefined;
    const opened = await this.#openInside(relative);
    if (opened === undefined) return undefined;
    try {
      return await this.#answer(method, relative, opened.file, opened.stats, headers);
    } catch (error) {
      await opened.file.close().catch(() => undefined);
      throw error;
    }
  }

  /** Open the regular file at `relative` if its real path is inside the root and dot-free. */
  async #openInside(relative: string): Promise<{ file: FileHandle; stats: BigIntStats } | undefined> {
    let file: FileHandle | undefined;
    try {
      const real = await realpath(join(this.root, relative));
      if (!real.startsWith(this.#rootPrefix)) return undefined;
      const names = real.slice(this.#rootPrefix.length).split(sep);
      if (!names.every((name, i) => isPlainName(name, i < names.length - 1))) return undefined;
      file = await open(real, OPEN_FLAGS);
      // The stats of what is open, not of the path: they describe the bytes we will send.
      const stats = await file.stat({ bigint: true });
      if (stats.isFile()) return { file, stats };
    } catch (error) {
      if (!isNotThere(error)) {
        await file?.close().catch(() => undefined);
        throw error;
      }
    }
    await file?.close().catch(() => undefined);
    return undefined;
  }

  async #answer(method: string, relative: string, file: FileHandle, stats: BigIntStats, headers: readonly string[]): Promise<AssetResponse> {
    const size = Number(stats.size);
    const validators: Validators = {
      etag: `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}-${stats.ino.toString(16)}"`,
      lastModifiedSeconds: Number(stats.mtimeNs / 1_000_000_000n),
    };
    const request = readHeaders(headers);
    const common = [
      "etag", validators.etag,
      "last-modified", httpDate(validators.lastModifiedSeconds),
      "cache-control", this.#cacheControl,
      "accept-ranges", "bytes",
    ];
    const precondition = evaluatePreconditions(request, validators);
    if (precondition !== "proceed") {
      await file.close();
      return { status: precondition === "failed" ? 412 : 304, headers: common, body: null };
    }
    const typed = [...common, "content-type", contentTypeFor(relative.slice(relative.lastIndexOf("/") + 1)), "x-content-type-options", "nosniff"];
    // Range is defined for GET only (RFC 9110 section 14.2); HEAD gets the full length.
    const range = method === "GET" && isRangeStillValid(request.ifRange, validators) ? byteRange(request.range, size) : ({ kind: "full" } as const);
    switch (range.kind) {
      case "full":
        return { status: 200, headers: typed, body: new FileBody(file, 0, size) };
      case "partial":
        return { status: 206, headers: [...typed, "content-range", `bytes ${range.start}-${range.end}/${size}`], body: new FileBody(file, range.start, range.end + 1) };
      case "unsatisfiable":
        await file.close();
        return { status: 416, headers: [...common, "content-range", `bytes */${size}`], body: null };
    }
  }
}

/** The request headers static answers depend on; repeated fields joined as a list. */
function readHeaders(headers: readonly string[]): Conditions & { readonly range: string | undefined; readonly ifRange: string | undefined } {
  const found: Record<string, string | undefined> = {};
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!CONDITIONAL_HEADERS.has(name)) continue;
    const value = headers[i + 1] as string;
    const before = found[name];
    found[name] = before === undefined ? value : `${before}, ${value}`;
  }
  return {
    ifMatch: found["if-match"],
    ifNoneMatch: found["if-none-match"],
    ifModifiedSince: found["if-modified-since"],
    ifUnmodifiedSince: found["if-unmodified-since"],
    range: found["range"],
    ifRange: found["if-range"],
  };
}

const CONDITIONAL_HEADERS: ReadonlySet<string> = new Set(["if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "range", "if-range"]);

function isNotThere(error: unknown): boolean {
  return error instanceof Error && NOT_THERE.has((error as NodeJS.ErrnoException).code ?? "");
}
