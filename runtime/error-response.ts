import type { SandboxErrorCode } from "../sandbox/index.js";
import { CLIENT_ERRORS, SANDBOX_CODE_REPLIES, type ClientErrorName } from "./error-catalogue.js";

/** What a client sees for a failure: status and the `error` field of the JSON body. */
export interface ErrorReply {
  readonly status: number;
  readonly error: string;
  /** Said to the admin API's caller (a build error, a config problem); the main listener never sets it. */
  readonly message?: string;
}

/** The reply for a catalogued client error. */
export function clientError(name: ClientErrorName): ErrorReply {
  return { status: CLIENT_ERRORS[name].status, error: name };
}

const SANDBOX_REPLIES = Object.fromEntries(
  Object.entries(SANDBOX_CODE_REPLIES).map(([code, name]) => [code, clientError(name)]),
) as Readonly<Record<keyof typeof SANDBOX_CODE_REPLIES, ErrorReply>>;
/** Never written (the client is gone); here so every code has a reply. */
const ABORTED_REPLY: ErrorReply = { status: 499, error: "client_closed_request" };

/** The reply for a sandbox code (runtime/error-catalogue.ts maps them). */
export function replyForSandboxCode(code: SandboxErrorCode): ErrorReply {
  return code === "EDGE_SANDBOX_ABORTED" ? ABORTED_REPLY : SANDBOX_REPLIES[code];
}

/** Replies that do not come from the sandbox. */
export const BODY_TOO_LARGE = clientError("body_size_limit");
export const INTERNAL_ERROR = clientError("internal_error");
/** Malformed request heads (runtime/request-head.ts); each is answered and the connection closed. */
export const BAD_REQUEST = clientError("bad_request");
export const BAD_HOST = clientError("bad_host");
export const BAD_REQUEST_TARGET = clientError("bad_request_target");
export const BAD_CONTENT_LENGTH = clientError("bad_content_length");
export const HEADERS_TOO_LARGE = clientError("headers_too_large");
export const NO_ROUTE = clientError("no_route");
export const RESTARTING = clientError("restarting");
/** The admin listener's refusals (runtime/admin/). */
export const ADMIN_UNAUTHORIZED = clientError("admin_unauthorized");
export const ADMIN_TOKEN_NOT_CONFIGURED = clientError("admin_token_not_configured");
export const ADMIN_NOT_FOUND = clientError("admin_not_found");
export const ADMIN_NO_SUCH_APP = clientError("admin_no_such_app");
export const ADMIN_METHOD_NOT_ALLOWED = clientError("admin_method_not_allowed");
export const ADMIN_BODY_TOO_LARGE = clientError("admin_body_too_large");
export const ADMIN_NO_SUCH_VERSION = clientError("admin_no_such_version");
export const ADMIN_BAD_REQUEST = clientError("admin_bad_request");
export const ADMIN_CONFLICT = clientError("admin_conflict");
export const ADMIN_BUILD_FAILED = clientError("admin_build_failed");
export const ADMIN_BOOT_FAILED = clientError("admin_boot_failed");
export const ADMIN_RELOAD_FAILED = clientError("admin_reload_failed");
export const ADMIN_NOT_WRITABLE = clientError("admin_not_writable");
export const ADMIN_BUSY = clientError("admin_busy");

/** An admin reply that says why (`message`) besides its catalogued name. */
export function withMessage(reply: ErrorReply, message: string): ErrorReply {
  return { ...reply, message };
}
export const ADMIN_TAIL_LIMIT = clientError("admin_tail_limit");

/** The JSON body of an error reply; always names the request id. */
export function errorBody(reply: ErrorReply, requestId: string): string {
  return JSON.stringify(reply.message === undefined ? { error: reply.error, requestId } : { error: reply.error, message: reply.message, requestId });
}
