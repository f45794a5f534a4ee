import { SandboxError } from "./errors.js";
import type { FlatHeaders, WireBody } from "./prelude/protocol.js";

/** A response as the sandbox hands it to its caller. */
export interface SandboxResponse {
  readonly status: number;
  readonly statusText: string;
  /** Flat name/value list; names lower-case, set-cookie entries separate. */
  readonly headers: FlatHeaders;
  /** Bytes, or the string the app built the response from (encode as UTF-8). */
  readonly body: Uint8Array | string | null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Header values may not contain CR, LF or NUL: they would split the response.
const BAD_VALUE = /[\r\n\0]/;

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
  if (typeof statusText !== "string" || BAD_VALUE.test(statusText) || statusText.length > 1024) {
    throw bad("statusText is not a single-line string");
  }
  if (!Array.isArray(headers) || headers.length % 2 !== 0) throw bad("headers are not name/value pairs");
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i];
    const value: unknown = headers[i + 1];
    if (typeof name !== "string" || !TOKEN.test(name)) throw bad(`header name ${JSON.stringify(name)} is not a token`);
    if (typeof value !== "string" || BAD_VALUE.test(value)) throw bad(`header ${name} has an invalid value`);
  }
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
  return { status, statusText, headers: headers as FlatHeaders, body: out };
}
