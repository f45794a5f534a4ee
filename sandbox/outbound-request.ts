/**
 * Host-side checks of a subrequest as it comes out of an isolate. The
 * prelude builds these values, but tenant code runs around the prelude and
 * can patch whatever it uses (String.prototype, typed-array getters), so the
 * host checks every one of them itself, with its own regular expressions and
 * its own view of the body's size, before anything is sent or allocated.
 */

/** How a subrequest treats redirects (Fetch Standard request redirect mode). */
export type RedirectMode = "follow" | "manual" | "error";

/** A subrequest that passed {@link validateOutboundRequest}. */
export interface OutboundRequest {
  /** An HTTP token; CONNECT, TRACE and TRACK are refused. */
  readonly method: string;
  /** At most {@link MAX_URL_CHARS} characters; parsed again by the fetcher. */
  readonly url: string;
  /** Lower-case names; framing and hop-by-hop headers removed. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: ArrayBuffer | null;
  readonly redirect: RedirectMode;
}

/** Longest subrequest URL, in characters (as Workers: 16 KiB). */
export const MAX_URL_CHARS = 16_384;
/** Most headers on one subrequest. */
export const MAX_HEADER_COUNT = 256;
/** Most characters in all of a subrequest's header names and values together. */
export const MAX_HEADER_CHARS = 65_536;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 field-value: no NUL, CR or LF (the only characters that break framing). */
const FIELD_VALUE = /^[^\0\r\n]*$/;
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const REDIRECT_MODES: ReadonlySet<string> = new Set(["follow", "manual", "error"]);
/**
 * Framing and hop-by-hop headers belong to the host's HTTP client (it frames
 * the body itself). A tenant's `cdn-loop` is kept: the host appends its own
 * entry after it (see cdn-loop.ts), and extra entries only stop loops sooner.
 */
const DROPPED_HEADERS = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
]);

/**
 * Check the raw arguments of a `fetchStart` host call. Returns the request,
 * or a one-line reason (for the TypeError the prelude raises) when a value is
 * of the wrong type, too long or malformed. `bodyLimitBytes` bounds the body;
 * the size is the host's own `byteLength` of the copied ArrayBuffer.
 * Never throws.
 */
export function validateOutboundRequest(
  method: unknown,
  url: unknown,
  headers: unknown,
  body: unknown,
  redirect: unknown,
  bodyLimitBytes: number,
): OutboundRequest | string {
  if (typeof method !== "string" || !TOKEN.test(method) || method.length > 64) return "fetch: invalid method";
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) return `fetch: method ${method} is forbidden`;
  if (typeof url !== "string" || url.length === 0) return "fetch: invalid URL";
  if (url.length > MAX_URL_CHARS) return `fetch: URL longer than ${MAX_URL_CHARS} characters`;
  const mode = redirect === undefined ? "follow" : redirect;
  if (typeof mode !== "string" || !REDIRECT_MODES.has(mode)) return "fetch: invalid redirect mode";
  const checkedHeaders = validateHeaders(headers);
  if (typeof checkedHeaders === "string") return checkedHeaders;
  if (body !== null && !(body instanceof ArrayBuffer)) return "fetch: invalid body";
  if (body !== null && body.byteLength > bodyLimitBytes) {
    return `fetch: request body exceeds the subrequest body limit of ${bodyLimitBytes} bytes`;
  }
  return { method, url, headers: checkedHeaders, body, redirect: mode as RedirectMode };
}

function validateHeaders(headers: unknown): Array<[string, string]> | string {
  if (!Array.isArray(headers)) return "fetch: invalid headers";
  const list = headers as unknown[];
  const length = list.length;
  if (length % 2 !== 0) return "fetch: invalid headers";
  if (length / 2 > MAX_HEADER_COUNT) return `fetch: more than ${MAX_HEADER_COUNT} headers`;
  const out: Array<[string, string]> = [];
  let chars = 0;
  for (let i = 0; i < length; i += 2) {
    const name = list[i];
    const value = list[i + 1];
    if (typeof name !== "string" || typeof value !== "string") return "fetch: invalid headers";
    chars += name.length + value.length;
    if (chars > MAX_HEADER_CHARS) return `fetch: headers larger than ${MAX_HEADER_CHARS} characters`;
    if (!TOKEN.test(name)) return "fetch: invalid header name";
    if (!FIELD_VALUE.test(value)) return `fetch: invalid value for header ${name}`;
    const lower = name.toLowerCase();
    if (DROPPED_HEADERS.has(lower)) continue;
    out.push([lower, value.trim()]);
  }
  return out;
}
