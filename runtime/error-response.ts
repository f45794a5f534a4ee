import type { SandboxErrorCode } from "../sandbox/index.js";

/** What a client sees for a failure: status and the `error` field of the JSON body. */
export interface ErrorReply {
  readonly status: number;
  readonly error: string;
}

/**
 * The one place that maps sandbox codes to HTTP. Limits answer 503 naming
 * the limit (504 for wall time); app faults answer 500.
 */
const SANDBOX_REPLIES: Record<SandboxErrorCode, ErrorReply> = {
  EDGE_SANDBOX_CPU_LIMIT: { status: 503, error: "cpu_limit" },
  EDGE_SANDBOX_MEMORY_LIMIT: { status: 503, error: "memory_limit" },
  EDGE_SANDBOX_CATASTROPHIC: { status: 503, error: "memory_limit" },
  EDGE_SANDBOX_UNKNOWN_FAILPOINT: { status: 500, error: "internal_error" },
  EDGE_SANDBOX_WALL_LIMIT: { status: 504, error: "wall_time_limit" },
  EDGE_SANDBOX_STARTUP_TIMEOUT: { status: 503, error: "startup_time_limit" },
  EDGE_SANDBOX_STARTUP_FAILED: { status: 500, error: "startup_failed" },
  EDGE_SANDBOX_NO_DEFAULT_EXPORT: { status: 500, error: "no_default_export" },
  EDGE_SANDBOX_NO_FETCH_HANDLER: { status: 500, error: "no_fetch_handler" },
  EDGE_SANDBOX_APP_EXCEPTION: { status: 500, error: "app_exception" },
  EDGE_SANDBOX_BAD_RESPONSE: { status: 500, error: "bad_response" },
  EDGE_SANDBOX_RESPONSE_TOO_LARGE: { status: 503, error: "response_size_limit" },
  EDGE_SANDBOX_DISPOSED: { status: 503, error: "isolate_recycled" },
  EDGE_SANDBOX_ABORTED: { status: 499, error: "client_closed_request" },
  EDGE_SANDBOX_TOO_MANY_REQUESTS: { status: 503, error: "concurrency_limit" },
  EDGE_SANDBOX_RESTART_BACKOFF: { status: 503, error: "restart_backoff" },
  EDGE_SANDBOX_BODY_TOO_LARGE: { status: 413, error: "body_size_limit" },
  EDGE_SANDBOX_FETCH_REFUSED: { status: 500, error: "app_exception" },
  EDGE_SANDBOX_SUBREQUEST_LIMIT: { status: 500, error: "app_exception" },
  EDGE_SANDBOX_FETCH_FAILED: { status: 500, error: "app_exception" },
};

export function replyForSandboxCode(code: SandboxErrorCode): ErrorReply {
  return SANDBOX_REPLIES[code];
}

/** Replies that do not come from the sandbox. */
export const BODY_TOO_LARGE: ErrorReply = { status: 413, error: "body_size_limit" };
export const INTERNAL_ERROR: ErrorReply = { status: 500, error: "internal_error" };
/** Malformed request heads (runtime/request-head.ts); each is answered and the connection closed. */
export const BAD_REQUEST: ErrorReply = { status: 400, error: "bad_request" };
export const BAD_HOST: ErrorReply = { status: 400, error: "bad_host" };
export const BAD_REQUEST_TARGET: ErrorReply = { status: 400, error: "bad_request_target" };
export const BAD_CONTENT_LENGTH: ErrorReply = { status: 400, error: "bad_content_length" };
export const HEADERS_TOO_LARGE: ErrorReply = { status: 431, error: "headers_too_large" };

/** The JSON body of an error reply; always names the request id. */
export function errorBody(reply: ErrorReply, requestId: string): string {
  return JSON.stringify({ error: reply.error, requestId });
}
