/**
 * Error catalogue of the loader layer. Every failure the loader reports
 * carries one of these codes; callers (the runtime) match on `code`, never on
 * the message, which is meant for a person and reads as one line per problem.
 */
export const LOADER_ERROR_CODES = {
  /** The entry path does not exist or is not a regular file. */
  EDGE_LOADER_ENTRY_NOT_FOUND: "entry not found",
  /** The entry's extension is not one the loader bundles (.ts .js .mjs .mts .cjs). */
  EDGE_LOADER_UNSUPPORTED_ENTRY: "unsupported entry",
  /** esbuild refused the app: syntax error, unresolved import, Node built-in import. */
  EDGE_LOADER_BUILD_FAILED: "build failed",
  /** A confined build reached outside its directory: an import, a symlink, the entry, or a package.json above the tree. */
  EDGE_LOADER_OUTSIDE_ROOT: "confined build reached outside its directory",
  /** A confined build loaded more files or more bytes than its caps allow. */
  EDGE_LOADER_INPUT_LIMIT: "confined build read too much",
} as const;

/** One of the loader's error codes. */
export type LoaderErrorCode = keyof typeof LOADER_ERROR_CODES;

/**
 * The loader's only error class. `message` is written for the person running
 * the app (no stack needed to understand it); `code` is for programs.
 */
export class LoaderError extends Error {
  readonly code: LoaderErrorCode;

  constructor(code: LoaderErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LoaderError";
    this.code = code;
  }
}

/** True when `error` is a loader error with the given code (matches by code, not by class). */
export function isLoaderError(error: unknown, code?: LoaderErrorCode): error is LoaderError {
  if (typeof error !== "object" || error === null) return false;
  const actual = (error as { code?: unknown }).code;
  if (typeof actual !== "string" || !(actual in LOADER_ERROR_CODES)) return false;
  return code === undefined || actual === code;
}
