import { BAD_CONTENT_LENGTH, BAD_HOST, BAD_REQUEST, BAD_REQUEST_TARGET, HEADERS_TOO_LARGE, type ErrorReply } from "./error-response.js";
import { canonicalHost } from "./host-header.js";
import { requestTarget, type RequestTarget } from "./request-target.js";

/**
 * Largest request header section we serve: names, values and 4 bytes of
 * framing (`: ` and CRLF) per field. Past it the answer is 431. uWS itself
 * drops connections whose head does not fit its own buffer (see
 * runtime/README.md); this is the documented limit below that.
 */
export const MAX_REQUEST_HEADER_BYTES = 32 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: HTAB, SP, VCHAR, obs-text. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^[0-9]+$/;

/** What the handler needs from a request head that passed every check. */
export interface CheckedRequestHead {
  readonly ok: true;
  readonly target: RequestTarget;
  /** Declared body length, if the request has Content-Length. */
  readonly contentLength: number | undefined;
  readonly hasBody: boolean;
}

/** A head refused: answer `reply` and close the connection. */
export interface RefusedRequestHead {
  readonly ok: false;
  readonly reply: ErrorReply;
}

/**
 * Check what uWS parsed before anything routes on it. uWS's parser accepts
 * some heads RFC 9112 says a server must refuse (two Content-Lengths, two
 * Hosts, a Host that is no authority, over-long headers) and refuses others
 * without an answer (runtime/README.md); this turns the first kind into a
 * 4xx. `headers` is uWS's flat list (names lower-case).
 */
export function checkRequestHead(
  method: string,
  path: string,
  query: string | undefined,
  headers: readonly string[],
): CheckedRequestHead | RefusedRequestHead {
  // uWS returns undefined, not "", when the target has no "?".
  const search = query ?? "";
  if (!TOKEN.test(method)) return refuse(BAD_REQUEST);
  let hostHeader: string | undefined;
  let hosts = 0;
  let contentLength: string | undefined;
  let contentLengths = 0;
  let transferEncoding: string | undefined;
  let bytes = method.length + path.length + search.length;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    bytes += name.length + value.length + 4;
    if (bytes > MAX_REQUEST_HEADER_BYTES) return refuse(HEADERS_TOO_LARGE);
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) return refuse(BAD_REQUEST);
    if (name === "host") {
      hosts++;
      hostHeader = value;
    } else if (name === "content-length") {
      contentLengths++;
      contentLength = value;
    } else if (name === "transfer-encoding") {
      transferEncoding = value;
    }
  }
  // RFC 9112 section 3.2: no Host, or more than one, is 400.
  const host = hosts === 1 && hostHeader !== undefined ? canonicalHost(hostHeader) : undefined;
  if (host === undefined) return refuse(BAD_HOST);
  // One Content-Length, digits only: "0x10" or "1e3" would be read by us as
  // one length and by uWS's parser as another.
  if (contentLengths > 1 || (contentLength !== undefined && (!DIGITS.test(contentLength) || !Number.isSafeInteger(Number(contentLength))))) {
    return refuse(BAD_CONTENT_LENGTH);
  }
  if (transferEncoding !== undefined && (contentLength !== undefined || transferEncoding.toLowerCase() !== "chunked")) return refuse(BAD_REQUEST);
  const target = requestTarget(path, search, host);
  if (target === undefined) return refuse(BAD_REQUEST_TARGET);
  const length = contentLength === undefined ? undefined : Number(contentLength);
  return { ok: true, target, contentLength: length, hasBody: transferEncoding !== undefined || (length ?? 0) > 0 };
}

function refuse(reply: ErrorReply): RefusedRequestHead {
  return { ok: false, reply };
}
