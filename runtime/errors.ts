/**
 * Error catalogue of the runtime layer: CLI, config, front end, supervisor.
 * User errors (bad flags, bad app) print as one line without a stack.
 */
export const RUNTIME_ERRORS = {
  /** Unknown command, unknown flag or a flag with a bad value. */
  EDGE_RUNTIME_BAD_ARGUMENTS: "bad command-line arguments",
  /** The configuration failed validation; the message lists every problem with its path. */
  EDGE_RUNTIME_BAD_CONFIG: "invalid configuration",
  /** The `.dev.vars` file could not be parsed. */
  EDGE_RUNTIME_BAD_DEV_VARS: "invalid .dev.vars file",
  /** The listen address is taken by another process. */
  EDGE_RUNTIME_PORT_IN_USE: "port already in use",
  /** uWebSockets.js loaded its JS fallback (or nothing) instead of the native binary. */
  EDGE_RUNTIME_UWS_NOT_NATIVE: "uWebSockets.js native binary did not load",
  /** The app could not be built or started. */
  EDGE_RUNTIME_APP_FAILED: "app failed to start",
  /** A child process exited before it became ready. */
  EDGE_RUNTIME_CHILD_FAILED: "child process failed during start-up",
  /** A route pattern is not `host`, `*.host`, `*` or one of them followed by a path prefix; the message lists every one. */
  EDGE_RUNTIME_BAD_ROUTE: "invalid route",
  /** Two routes name the same host and path prefix for different targets; the message lists every pair. */
  EDGE_RUNTIME_ROUTE_CONFLICT: "conflicting routes",
  /** An app's assets directory does not exist or is not a directory. */
  EDGE_RUNTIME_BAD_ASSETS_DIR: "invalid assets directory",
  /** A static file could not be read to the end (it shrank or failed while being sent); the response is cut. */
  EDGE_RUNTIME_ASSET_READ_FAILED: "static asset read failed",
  /** A CLI client (deploy, rollback) could not connect to the admin API. */
  EDGE_RUNTIME_ADMIN_UNREACHABLE: "admin API unreachable",
  /** The admin API refused a CLI client's request; the message has its status, error name and reason. */
  EDGE_RUNTIME_ADMIN_REFUSED: "admin API refused the request",
  /** A CLI client (deploy, rollback, tail): the EDGEHOST_ADMIN_TOKEN environment variable is unset or empty. */
  EDGE_RUNTIME_ADMIN_TOKEN_MISSING: "no admin token in the environment",
} as const;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS;

/** The one error class of the runtime layer. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message?: string) {
    super(message ?? RUNTIME_ERRORS[code]);
    this.name = "RuntimeError";
    this.code = code;
  }
}

/** True if `value` is a RuntimeError (optionally with `code`). */
export function isRuntimeError(value: unknown, code?: RuntimeErrorCode): value is RuntimeError {
  return value instanceof RuntimeError && (code === undefined || value.code === code);
}
