/**
 * The request target (uWS's `getUrl()` and `getQuery()`) turned into the
 * absolute URL the app receives. uWS hands over the raw target bytes: it
 * answers absolute-form and asterisk-form requests itself (it never calls
 * the handler; see runtime/README.md), but passes on `#`, `\`, dot segments
 * and bytes that are not ASCII. Each of those would make the app's
 * `new URL(request.url)` name another path than the one we routed by, so
 * the path is either refused or brought to its WHATWG form here and the
 * router uses that form.
 */

/** The URL an app receives and what the front end routes by. */
export interface RequestTarget {
  /** `http://host/path?query`; parses, and its host and pathname are the two below. */
  readonly url: string;
  readonly host: string;
  readonly pathname: string;
}

/** Visible ASCII except `#` (a fragment has no place in a request) and `\` (the URL parser reads it as `/`). */
const TARGET_CHARS = /^[!"$-[\]-~]*$/;
/** Paths the URL parser leaves exactly as they are: pchar and `/`, no dot segment. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~!$&'()*+,;=:@/%]*$/;
const DOT_SEGMENT = /\/(\.|%2e)/i;

/**
 * The target for `path` and `query` on canonical `host` (see
 * canonicalHost), or undefined when the target is not an origin-form one
 * we can route faithfully (400 `bad_request_target`).
 */
export function requestTarget(path: string, query: string, host: string): RequestTarget | undefined {
  if (!path.startsWith("/") || !TARGET_CHARS.test(path) || !TARGET_CHARS.test(query)) return undefined;
  const search = query === "" ? "" : `?${query}`;
  if (PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)) return { url: `http://${host}${path}${search}`, host, pathname: path };
  // Rare: dot segments or characters the parser percent-encodes. Use its answer.
  let pathname: string;
  try {
    pathname = new URL(`http://${host}${path}`).pathname;
  } catch {
    return undefined;
  }
  return { url: `http://${host}${pathname}${search}`, host, pathname };
}
