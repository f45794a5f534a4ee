/**
 * Error catalogue of the version store (runtime/versions/). The admin API
 * maps these codes to replies; callers match on `code`, never on messages.
 * Build failures of an upload keep the loader's codes (EDGE_LOADER_*).
 */
export const VERSIONS_ERRORS = {
  /** An app name is not 1 to 63 lower-case letters, digits and hyphens. */
  EDGE_VERSIONS_BAD_APP_NAME: "invalid app name",
  /** The app has no versions in the store. */
  EDGE_VERSIONS_UNKNOWN_APP: "unknown app",
  /** The app has no version with that id. */
  EDGE_VERSIONS_UNKNOWN_VERSION: "unknown version",
  /** A version to discard is active, previous or in a split. */
  EDGE_VERSIONS_VERSION_IN_USE: "version in use",
  /** rollback found no previous active version. */
  EDGE_VERSIONS_NO_PREVIOUS: "no previous version to roll back to",
  /** A traffic split names the active version, has no active version beside it, or a percent outside 0-100. */
  EDGE_VERSIONS_BAD_SPLIT: "invalid traffic split",
  /** manifest.json is not valid JSON or not a valid manifest; the message names the file. */
  EDGE_VERSIONS_CORRUPT_MANIFEST: "corrupt version manifest",
  /** Another process held the data directory's manifest lock for longer than a change may wait (manifest-lock.ts). */
  EDGE_VERSIONS_LOCKED: "version store locked by another process",
  /** A stored bundle is missing. */
  EDGE_VERSIONS_BUNDLE_NOT_FOUND: "bundle not found",
  /** A stored bundle's bytes no longer hash to its name. */
  EDGE_VERSIONS_BUNDLE_CORRUPT: "stored bundle does not match its hash",
  /** An upload path is empty. */
  EDGE_VERSIONS_PATH_EMPTY: "empty upload path",
  /** An upload path starts with `/`. */
  EDGE_VERSIONS_PATH_ABSOLUTE: "absolute upload path",
  /** An upload path has a `..` or `.` segment, or an empty one (`a//b`, a trailing `/`). */
  EDGE_VERSIONS_PATH_TRAVERSAL: "upload path with . or .. or empty segments",
  /** An upload path holds a NUL byte. */
  EDGE_VERSIONS_PATH_NUL: "NUL in upload path",
  /** An upload path holds another control character (a newline could forge log lines). */
  EDGE_VERSIONS_PATH_CONTROL: "control character in upload path",
  /** An upload path holds a backslash (a separator on Windows, ambiguous everywhere). */
  EDGE_VERSIONS_PATH_BACKSLASH: "backslash in upload path",
  /** A segment of an upload path starts with `.` (other than `.well-known`). */
  EDGE_VERSIONS_PATH_HIDDEN: "hidden file in upload",
  /** An upload path or one of its segments is too long. */
  EDGE_VERSIONS_PATH_TOO_LONG: "upload path too long",
  /** Two upload paths differ only in case or Unicode normalisation, or one is a file and a directory of another. */
  EDGE_VERSIONS_PATH_DUPLICATE: "conflicting upload paths",
  /** An upload has more files than allowed. */
  EDGE_VERSIONS_UPLOAD_TOO_MANY_FILES: "too many files in upload",
  /** One uploaded file (or a bundle) is larger than allowed. */
  EDGE_VERSIONS_UPLOAD_FILE_TOO_LARGE: "uploaded file too large",
  /** An upload's files together are larger than allowed. */
  EDGE_VERSIONS_UPLOAD_TOO_LARGE: "upload too large",
  /** The entry named by an upload is not one of its files. */
  EDGE_VERSIONS_UPLOAD_NO_ENTRY: "upload entry missing",
} as const;

export type VersionsErrorCode = keyof typeof VERSIONS_ERRORS;

/** The one error class of the version store. */
export class VersionsError extends Error {
  readonly code: VersionsErrorCode;

  constructor(code: VersionsErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? VERSIONS_ERRORS[code], options);
    this.name = "VersionsError";
    this.code = code;
  }
}

/** True if `value` carries a version-store code (optionally `code`); matches by code, not by class. */
export function isVersionsError(value: unknown, code?: VersionsErrorCode): value is VersionsError {
  if (typeof value !== "object" || value === null) return false;
  const actual = (value as { code?: unknown }).code;
  if (typeof actual !== "string" || !(actual in VERSIONS_ERRORS)) return false;
  return code === undefined || actual === code;
}
