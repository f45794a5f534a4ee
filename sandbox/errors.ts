/**
 * Error catalogue of the sandbox layer. Codes cross isolate and process
 * boundaries as strings; callers match on `code`, never on messages.
 */
export const SANDBOX_ERRORS = {
  /** The app's per-request CPU budget ran out (sync loop or async continuation). */
  EDGE_SANDBOX_CPU_LIMIT: "cpu time limit exceeded",
  /** The isolate's heap limit was hit; the isolate was disposed. */
  EDGE_SANDBOX_MEMORY_LIMIT: "memory limit exceeded",
  /** V8 lost control of the isolate (fatal OOM); the whole process must be replaced. */
  EDGE_SANDBOX_CATASTROPHIC: "isolate failed catastrophically",
  /** EDGEHOST_FAILPOINTS names a fault-injection point that does not exist (see failpoints.ts). */
  EDGE_SANDBOX_UNKNOWN_FAILPOINT: "unknown failpoint",
  /** Top-level evaluation of the app took longer than its startup limit. */
  EDGE_SANDBOX_STARTUP_TIMEOUT: "top-level evaluation exceeded the startup limit",
  /** Top-level evaluation of the app threw. */
  EDGE_SANDBOX_STARTUP_FAILED: "app threw during top-level evaluation",
  /** The bundle has no default export. */
  EDGE_SANDBOX_NO_DEFAULT_EXPORT: "app has no default export",
  /** The default export has no fetch() method. */
  EDGE_SANDBOX_NO_FETCH_HANDLER: "app's default export has no fetch handler",
  /** The handler threw or rejected. */
  EDGE_SANDBOX_APP_EXCEPTION: "app threw an exception",
  /** The handler resolved to something that is not a valid Response. */
  EDGE_SANDBOX_BAD_RESPONSE: "app returned an invalid response",
  /** The response body is larger than the response size limit. */
  EDGE_SANDBOX_RESPONSE_TOO_LARGE: "response body exceeds the response size limit",
  /** The isolate was disposed (limit breach, reload, shutdown) while the request was in it. */
  EDGE_SANDBOX_DISPOSED: "isolate was disposed while the request was running",
  /** No response within the wall-time limit. */
  EDGE_SANDBOX_WALL_LIMIT: "wall time limit exceeded",
  /** A streamed request body went past the body size limit. */
  EDGE_SANDBOX_BODY_TOO_LARGE: "request body exceeds the body size limit",
  /** The caller aborted the request. */
  EDGE_SANDBOX_ABORTED: "request aborted",
  /** Outbound fetch to a loopback, private or link-local address without --allow-private-fetch. */
  EDGE_SANDBOX_FETCH_REFUSED: "fetch to a non-public address refused",
  /** The request made more outbound fetches than its subrequest limit. */
  EDGE_SANDBOX_SUBREQUEST_LIMIT: "too many subrequests",
  /** Outbound fetch failed (DNS, connect, timeout, oversize body, bad URL). */
  EDGE_SANDBOX_FETCH_FAILED: "outbound fetch failed",
  /** The app's isolates keep failing or being recycled; its next start is delayed (details.retryAfterMs). */
  EDGE_SANDBOX_RESTART_BACKOFF: "app restarts too often; try again later",
  /** The per-app limit on requests executing at once was reached. */
  EDGE_SANDBOX_TOO_MANY_REQUESTS: "too many concurrent requests for this app",
} as const;

export type SandboxErrorCode = keyof typeof SANDBOX_ERRORS;

/** Details that travel with some codes. */
export interface SandboxErrorDetails {
  /** Raw V8 stack of the tenant's exception (bundle positions, unmapped). */
  readonly appStack?: string;
  /** The limit that was breached, in its own unit. */
  readonly limit?: number;
  /** When the caller may try again, ms from now. */
  readonly retryAfterMs?: number;
}

/** The one error class of the sandbox layer. */
export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  readonly details: SandboxErrorDetails;

  constructor(code: SandboxErrorCode, message?: string, details: SandboxErrorDetails = {}) {
    super(message ?? SANDBOX_ERRORS[code]);
    this.name = "SandboxError";
    this.code = code;
    this.details = details;
  }
}

/** True if `value` is a SandboxError with `code`. */
export function isSandboxError(value: unknown, code?: SandboxErrorCode): value is SandboxError {
  return value instanceof SandboxError && (code === undefined || value.code === code);
}

/**
 * Translate an error thrown by isolated-vm into a sandbox code. This is the
 * only place that knows isolated-vm's message strings.
 */
export function classifyIsolateFailure(error: unknown): SandboxErrorCode | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("Script execution timed out")) return "EDGE_SANDBOX_CPU_LIMIT";
  if (message.includes("memory limit") || message.includes("Array buffer allocation failed")) {
    return "EDGE_SANDBOX_MEMORY_LIMIT";
  }
  // An entry's arguments are plain data the host made, so when isolated-vm
  // cannot rebuild them inside the isolate, it is because the isolate could
  // not allocate them (a body chunk arriving at an isolate at its limit).
  if (message.includes("Unable to deserialize cloned data")) return "EDGE_SANDBOX_MEMORY_LIMIT";
  if (message.includes("Isolate is disposed") || message.includes("Isolate was disposed")) {
    return "EDGE_SANDBOX_DISPOSED";
  }
  return undefined;
}
