/**
 * The host side of the prelude's `parseUrl` call: Node's URL parser (ada,
 * C++) for URLs that whatwg-url would take tens of microseconds to parse
 * inside the isolate. Runs synchronously on the event loop for a tenant, so
 * the inputs are bounded (MAX_HOST_URL_PARSE_CHARS each: ada parses that in
 * microseconds, far under the millisecond a host call may take) and every
 * argument is checked; it never throws.
 */
import { MAX_HOST_URL_PARSE_CHARS, type HostUrlParse } from "./prelude/protocol.js";

/** The components of `input` parsed against `base` (null: none), "failure", or why not. Never throws for any arguments. */
export function parseUrlOrRefusal(input: unknown, base: unknown): HostUrlParse {
  if (typeof input !== "string" || (base !== null && typeof base !== "string")) return "bad_argument";
  if (input.length > MAX_HOST_URL_PARSE_CHARS || (base !== null && base.length > MAX_HOST_URL_PARSE_CHARS)) return "too_large";
  // canParse first: a failed `new URL` builds an error with a stack, several times the cost of the parse.
  if (base === null ? !URL.canParse(input) : !URL.canParse(input, base)) return "failure";
  let url: URL;
  try {
    url = base === null ? new URL(input) : new URL(input, base);
  } catch {
    return "failure";
  }
  return [url.href, url.protocol, url.username, url.password, url.hostname, url.port, url.pathname, url.search, url.hash];
}
