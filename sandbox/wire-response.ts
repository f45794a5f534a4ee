import type { SandboxBodyStream } from "./pulled-body.js";
import { SandboxError } from "./errors.js";
import type { FlatHeaders, WireBody } from "./prelude/protocol.js";

/** A response as the sandbox hands it to its caller. */
export interface SandboxResponse {
  readonly status: number;
  readonly statusText: string;
  /** Flat name/value list; names lower-case, set-cookie entries separate. */
  readonly headers: FlatHeaders;
  /** Bytes, or the string the app built the response from (encode as UTF-8). */
  readonly body: Uint8Array | string | SandboxBodyStream | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 field-value: HTAB, SP, VCHAR and obs-text. Anything else (CR, LF
// and NUL would split the response; other controls and code points past
// U+00FF are not bytes) is refused, never rewritten.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// A reason phrase is the same alphabet.
const BAD_REASON = BAD_VALUE;
/** Response header bytes an app may send (names and values); past it the response is refused. */
export const MAX_RESPONSE_HEADER_BYTES = 64 * 1024;

/**
 * Response headers an app may not set: framing (the host computes
 * Content-Length itself and never sends a tenant's Transfer-Encoding),
 * hop-by-hop headers of RFC 9110 section 7.6.1 that describe our
 * connection, not the resource, and Date, which uWS writes. workerd drops
 * the same set except Proxy-Connection and Date, which it passes on; we drop
 * those too, since a proxy in front of us may honour Proxy-Connection and a
 * second Date is ambiguous.
 */
export const HOST_MANAGED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
  "date",
]);

function bad(message: string): SandboxError {
  return new SandboxError("EDGE_SANDBOX_BAD_RESPONSE", `app returned an invalid response: ${message}`);
}

/**
 * Check what came out of an isolate before it goes anywhere near the wire.
 * The prelude already validates, but tenant code shares the isolate with it
 * and can patch its globals, so the host trusts nothing.
 */
export function validateWireResponse(
  status: unknown,
  statusText: unknown,
  headers: unknown,
  body: unknown,
  responseLimitBytes: number,
): SandboxResponse {
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    throw bad(`status ${String(status)} is not an integer in 200-599`);
  }
  if (typeof statusText !== "string" || BAD_REASON.test(statusText) || statusText.length > 1024) {
    throw bad("statusText is not a single-line string");
  }
  const outHeaders = validateHeaders(headers);
  const wireBody = body as WireBody;
  let out: Uint8Array | string | null;
  if (wireBody === null || wireBody === undefined) out = null;
  else if (typeof wireBody === "string") out = wireBody;
  else if (wireBody instanceof ArrayBuffer) out = new Uint8Array(wireBody);
  else throw bad("body is neither bytes, a string nor null");
  const size = typeof out === "string" ? Buffer.byteLength(out) : out?.byteLength ?? 0;
  if (size > responseLimitBytes) {
    throw new SandboxError(
      "EDGE_SANDBOX_RESPONSE_TOO_LARGE",
      `response body of ${size} bytes exceeds the limit of ${responseLimitBytes} bytes`,
      { limit: responseLimitBytes },
    );
  }
  return { status, statusText, headers: outHeaders, body: out };
}

/**
 * Names lower-cased here with the host's own String functions (the isolate's
 * `toLowerCase` may be patched), every name a token, every value a field
 * value, framing and hop-by-hop headers dropped.
 */
function validateHeaders(headers: unknown): FlatHeaders {
  if (!Array.isArray(headers) || headers.length % 2 !== 0) throw bad("headers are not name/value pairs");
  const out: string[] = [];
  let bytes = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i];
    const value: unknown = headers[i + 1];
    if (typeof name !== "string" || !TOKEN.test(name)) throw bad(`header name ${JSON.stringify(name)} is not a token`);
    if (typeof value !== "string" || BAD_VALUE.test(value)) throw bad(`header ${name} has an invalid value`);
    bytes += name.length + value.length;
    if (bytes > MAX_RESPONSE_HEADER_BYTES) throw bad(`headers exceed ${MAX_RESPONSE_HEADER_BYTES} bytes`);
    const lowerName = name.toLowerCase();
    if (!HOST_MANAGED_RESPONSE_HEADERS.has(lowerName)) out.push(lowerName, value);
  }
  return out;
}
