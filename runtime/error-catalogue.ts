/**
 * The one error catalogue (issue 6 item 8): every error a client, an
 * operator or a log can see, with its meaning. Two kinds:
 *
 * - Client errors: the `error` field of a JSON error reply and its HTTP
 *   status. Every reply the front end writes comes from here
 *   (runtime/error-response.ts maps sandbox codes onto these).
 * - Codes: the typed errors of each layer (EDGE_SANDBOX_*, EDGE_LOADER_*,
 *   EDGE_RUNTIME_*, EDGE_CONFIG_*, EDGE_VERSIONS_*), seen in logs, CLI messages and start-up failures. They
 *   are defined beside their layer (sandbox and loader know nothing of the
 *   runtime) and gathered here.
 *
 * README.md's error tables are generated from this module
 * (`npm run --silent error-tables`) and a test keeps them equal.
 */
import { LOADER_ERROR_CODES, type LoaderErrorCode } from "../loader/index.js";
import { SANDBOX_ERRORS, type SandboxErrorCode } from "../sandbox/index.js";
import { CONFIG_ERRORS, type ConfigErrorCode } from "./config/index.js";
import { RUNTIME_ERRORS, type RuntimeErrorCode } from "./errors.js";
import { VERSIONS_ERRORS, type VersionsErrorCode } from "./versions/errors.js";

interface ClientErrorEntry {
  readonly status: number;
  readonly meaning: string;
}

/** Client errors, as `{"error": name, "requestId": ...}` with the status. */
export const CLIENT_ERRORS = {
  bad_request: { status: 400, meaning: "the request line or a header is malformed, or Transfer-Encoding is not `chunked` alone; the connection is closed" },
  bad_host: { status: 400, meaning: "the Host header is missing or not a valid host[:port]" },
  bad_request_target: { status: 400, meaning: "the request target is not an origin-form path the front end can route faithfully" },
  bad_content_length: { status: 400, meaning: "Content-Length is repeated or not a plain non-negative integer" },
  no_route: { status: 404, meaning: "no app's route matches the request's host and path" },
  body_size_limit: { status: 413, meaning: "the request body is larger than the app's body limit" },
  headers_too_large: { status: 431, meaning: "the request head is larger than the front end accepts (32 KB)" },
  app_exception: { status: 500, meaning: "the app threw, or an outbound fetch it awaited failed or was refused" },
  bad_response: { status: 500, meaning: "the app's fetch resolved to something that is not a valid Response" },
  startup_failed: { status: 500, meaning: "the app could not be built, or its top-level code threw" },
  no_default_export: { status: 500, meaning: "the app's module has no default export" },
  no_fetch_handler: { status: 500, meaning: "the app's default export has no fetch method" },
  internal_error: { status: 500, meaning: "a fault of edgehost itself; the log has the details" },
  cpu_limit: { status: 503, meaning: "the request used up its CPU budget; the isolate was recycled" },
  memory_limit: { status: 503, meaning: "the isolate's memory limit, the app's host-memory account or the process memory backstop was reached" },
  startup_time_limit: { status: 503, meaning: "the app's top-level code ran past its start-up limit" },
  response_size_limit: { status: 503, meaning: "the response body is larger than the response size limit" },
  isolate_recycled: { status: 503, meaning: "the isolate was disposed (another request's breach, a reload, shutdown) while the request was in it" },
  concurrency_limit: { status: 503, meaning: "the app has as many requests inside and waiting as its limits allow; Retry-After says when to try again" },
  restart_backoff: { status: 503, meaning: "the app keeps failing or being recycled; its next start is delayed, Retry-After says how long" },
  restarting: { status: 503, meaning: "this front end is being replaced after a catastrophic isolate failure; the next connection reaches its successor" },
  wall_time_limit: { status: 504, meaning: "no response within the app's wall-time limit; request.signal was aborted" },
  // The admin listener's own replies (runtime/admin/).
  admin_unauthorized: { status: 401, meaning: "admin API: the request has no `Authorization: Bearer` token or the wrong one (`WWW-Authenticate: Bearer` says how to authenticate)" },
  admin_token_not_configured: { status: 403, meaning: "admin API: no token is configured (the `admin.tokenEnv` variable is unset; allowed for a loopback listener only), so every request is refused" },
  admin_not_found: { status: 404, meaning: "admin API: no endpoint has this path" },
  admin_no_such_app: { status: 404, meaning: "admin API: no configured or deployed app has this name" },
  admin_no_such_version: { status: 404, meaning: "admin API: the app has no version with this id" },
  admin_bad_request: { status: 400, meaning: "admin API: the request body is not the JSON the endpoint takes (`message` says what is wrong), or an upload path or app name is invalid" },
  admin_body_too_large: { status: 413, meaning: "admin API: the request body is larger than the admin listener takes (64 MiB)" },
  admin_conflict: { status: 409, meaning: "admin API: the change conflicts with the state (a route another app has, an app defined in the config file, no previous version to roll back to)" },
  admin_build_failed: { status: 422, meaning: "admin API: the uploaded app did not build, or its build tried to read outside its own files; the old version keeps serving" },
  admin_boot_failed: { status: 422, meaning: "admin API: the new version's top-level code threw or ran past its start-up limit; the old version keeps serving" },
  admin_reload_failed: { status: 422, meaning: "admin API: the config file could not be loaded again (`message` lists every problem); the running config stays" },
  admin_not_writable: { status: 409, meaning: "admin API: this front end has no version store (`edgehost run`), so nothing can be deployed" },
  admin_method_not_allowed: { status: 405, meaning: "admin API: the endpoint exists but not for this method (`Allow` lists the methods it takes)" },
  admin_busy: { status: 503, meaning: "admin API: another front end on the same data directory (the two of a hand-over) held the version store's lock for more than 10 s; nothing changed, retry" },
  admin_tail_limit: { status: 503, meaning: "admin API: the app, or this front end, already has as many live log tails (`GET /apps/:name/tail`) as it allows; close one and retry" },
} as const satisfies Readonly<Record<string, ClientErrorEntry>>;

export type ClientErrorName = keyof typeof CLIENT_ERRORS;

/**
 * What a client gets for each sandbox code. ABORTED has no answer: the
 * client is gone, nothing is written.
 */
export const SANDBOX_CODE_REPLIES: Readonly<Record<Exclude<SandboxErrorCode, "EDGE_SANDBOX_ABORTED">, ClientErrorName>> = {
  EDGE_SANDBOX_CPU_LIMIT: "cpu_limit",
  EDGE_SANDBOX_MEMORY_LIMIT: "memory_limit",
  // V8's fatal OOM: the request is answered like any memory breach while the process is replaced.
  EDGE_SANDBOX_CATASTROPHIC: "memory_limit",
  EDGE_SANDBOX_UNKNOWN_FAILPOINT: "internal_error",
  EDGE_SANDBOX_WALL_LIMIT: "wall_time_limit",
  EDGE_SANDBOX_STARTUP_TIMEOUT: "startup_time_limit",
  EDGE_SANDBOX_STARTUP_FAILED: "startup_failed",
  EDGE_SANDBOX_NO_DEFAULT_EXPORT: "no_default_export",
  EDGE_SANDBOX_NO_FETCH_HANDLER: "no_fetch_handler",
  EDGE_SANDBOX_APP_EXCEPTION: "app_exception",
  EDGE_SANDBOX_BAD_RESPONSE: "bad_response",
  EDGE_SANDBOX_RESPONSE_TOO_LARGE: "response_size_limit",
  EDGE_SANDBOX_DISPOSED: "isolate_recycled",
  EDGE_SANDBOX_TOO_MANY_REQUESTS: "concurrency_limit",
  EDGE_SANDBOX_RESTART_BACKOFF: "restart_backoff",
  EDGE_SANDBOX_BODY_TOO_LARGE: "body_size_limit",
  // A refused or failed subrequest rejects the app's fetch(); unhandled, it is the app's exception.
  EDGE_SANDBOX_FETCH_REFUSED: "app_exception",
  EDGE_SANDBOX_SUBREQUEST_LIMIT: "app_exception",
  EDGE_SANDBOX_FETCH_FAILED: "app_exception",
};

export type ErrorCode = SandboxErrorCode | LoaderErrorCode | RuntimeErrorCode | ConfigErrorCode | VersionsErrorCode;

/** Every typed code of every layer with its meaning. */
export const ERROR_CODES: Readonly<Record<ErrorCode, string>> = { ...SANDBOX_ERRORS, ...LOADER_ERROR_CODES, ...RUNTIME_ERRORS, ...CONFIG_ERRORS, ...VERSIONS_ERRORS };

/** The README tables, as Markdown. */
export function errorTablesMarkdown(): string {
  const client = Object.entries(CLIENT_ERRORS).map(([name, entry]) => `| ${entry.status} | \`${name}\` | ${entry.meaning} |`);
  const codes = Object.entries(ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return [
    "| status | `error` | meaning |",
    "| ---: | --- | --- |",
    ...client,
    "",
    "| code (logs, CLI, start-up failures) | meaning |",
    "| --- | --- |",
    ...codes,
  ].join("\n");
}
