/**
 * whatwg-url's URL record, rebuilt from the components the host's URL
 * parser (Node's, ada) returns: see {@link UrlParts} in protocol.ts and
 * sandbox/url-parser.ts. The serialised href decides what the getters
 * cannot tell apart (a null host from an empty one, a null query from an
 * empty one, an opaque path from a list); the caller checks that the record
 * serialises back to that href before using it.
 *
 * Also here: where ada (as in this Node) and the URL Standard as whatwg-url
 * implements it give different answers, so that those inputs stay with
 * whatwg-url. test/url-host-parse.test.ts compares the two on the WPT
 * inputs and on a generated corpus.
 *
 * Pure: no globals, so the host-side test can load it too.
 */

/** whatwg-url's URL record (url-state-machine.js). */
export interface UrlRecord {
  scheme: string;
  username: string;
  password: string;
  /** Domain or opaque host, IPv4 address as a number, IPv6 address as eight pieces, or null. */
  host: string | number | number[] | null;
  port: number | null;
  /** A list of segments, or a string for an opaque path. */
  path: string[] | string;
  query: string | null;
  fragment: string | null;
}

/** The host parser's answer: href, protocol, username, password, hostname, port, pathname, search, hash (the URL getters). */
export type UrlParts = readonly [string, string, string, string, string, string, string, string, string];

const SPECIAL_SCHEMES = new Set(["ftp", "file", "http", "https", "ws", "wss"]);

const DOTTED_DECIMAL = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
// The serialisation of an IPv6 address: lower-case hex pieces, the longest run of zeros as "::".
const IPV6_SERIALISED = /^\[([0-9a-f:]+)\]$/;

function ipv4Number(host: string): number {
  const parts = host.split(".");
  return ((Number(parts[0]) * 256 + Number(parts[1])) * 256 + Number(parts[2])) * 256 + Number(parts[3]);
}

/** The eight pieces of a serialised IPv6 address, or undefined if it is not one. */
function ipv6Pieces(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : (halves[0] as string).split(":");
  const tail = halves.length === 1 || halves[1] === "" ? [] : (halves[1] as string).split(":");
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const pieces: number[] = [];
  for (const piece of [...head, ...new Array<string>(missing).fill("0"), ...tail]) {
    if (piece.length === 0 || piece.length > 4) return undefined;
    pieces.push(Number.parseInt(piece, 16));
  }
  return pieces;
}

/**
 * The record for the host parser's `parts`, or undefined when they do not
 * make one (the caller then parses in the isolate). Does not check the
 * result against the href: the caller does, with whatwg-url's serializer.
 */
export function recordFromUrlParts(parts: UrlParts): UrlRecord | undefined {
  const [href, protocol, username, password, hostname, port, pathname, search, hash] = parts;
  if (!protocol.endsWith(":") || !href.startsWith(protocol)) return undefined;
  const scheme = protocol.slice(0, -1);
  const afterScheme = href.slice(protocol.length);
  const hasHost = afterScheme.startsWith("//");
  let host: UrlRecord["host"] = null;
  if (hasHost) {
    const ipv6 = IPV6_SERIALISED.exec(hostname);
    if (ipv6 !== null) {
      const pieces = ipv6Pieces(ipv6[1] as string);
      if (pieces === undefined) return undefined;
      host = pieces;
    } else if (SPECIAL_SCHEMES.has(scheme) && DOTTED_DECIMAL.test(hostname)) {
      // A special URL's host that reads as an IPv4 address is one (the parser makes it one).
      host = ipv4Number(hostname);
    } else {
      host = hostname;
    }
  }
  // A URL without a host whose path does not start with "/" has an opaque path.
  const opaque = !hasHost && !afterScheme.startsWith("/");
  const path: UrlRecord["path"] = opaque ? pathname : pathname === "" ? [] : pathname.slice(1).split("/");
  // "#" and "?" only ever appear in an href as delimiters (everywhere else they are percent-encoded).
  const fragment = hash !== "" ? hash.slice(1) : href.endsWith("#") ? "" : null;
  const beforeFragment = fragment === null ? href : href.slice(0, href.length - fragment.length - 1);
  const query = search !== "" ? search.slice(1) : beforeFragment.endsWith("?") ? "" : null;
  return { scheme, username, password, host, port: port === "" ? null : Number(port), path, query, fragment };
}

/**
 * False for input (and base) on which the host's parser is known to differ
 * from the URL Standard as whatwg-url implements it (test/url-host-parse.test.ts
 * finds them): "^" (now in the path percent-encode set; ada 2.9 leaves it),
 * and a base with an opaque path (ada resolves some relative input against
 * it where the Standard fails). See also {@link isHostRecordTrusted}.
 */
export function isHostParseCandidate(input: string, base: string | null): boolean {
  if (input.includes("^")) return false;
  if (base === null) return true;
  const colon = base.indexOf(":");
  return colon !== -1 && base.charCodeAt(colon + 1) === 0x2f /* "/" */ && !base.includes("^");
}

// "." and ".." segments, also percent-encoded (a loose match: it may also catch some that are not).
const DOT_SEGMENT = /(?:^|[/\\])(?:\.|%2e)/i;

/**
 * False for a host answer that whatwg-url must decide after all: a space
 * in an opaque path (the Standard now writes the one before "?" or "#" as
 * %20; ada 2.9 does not); dot segments in file and non-special URLs (ada
 * 2.9 keeps "u:p@h" in "file:u:p@h/../x" and drops the empty last segment
 * "sc://h/.." should keep); and internationalised host names (tr46 and
 * ada carry their own Unicode tables; whatwg-url's is the reference).
 */
export function isHostRecordTrusted(record: UrlRecord, input: string): boolean {
  if (typeof record.path === "string" && record.path.includes(" ")) return false;
  if ((record.scheme === "file" || !SPECIAL_SCHEMES.has(record.scheme)) && DOT_SEGMENT.test(input)) return false;
  return !(typeof record.host === "string" && record.host.includes("xn--"));
}

// A failure the isolate confirms: ada and tr46 might judge an
// internationalised or percent-encoded host differently.
const CONFIRM_FAILURE = /[^\x00-\x7f]|%|xn--/i;

/**
 * What the host parser's `answer` for `input` means: the record, null
 * (not a URL), or undefined when whatwg-url must decide (a refusal, an
 * untrusted answer, a failure to confirm, or a record that `serialize`,
 * whatwg-url's serializer, does not turn back into the host's href).
 */
export function interpretHostAnswer(input: string, answer: unknown, serialize: (record: UrlRecord) => string): UrlRecord | null | undefined {
  if (answer === "failure") return CONFIRM_FAILURE.test(input) ? undefined : null;
  if (!Array.isArray(answer) || answer.length !== 9 || !answer.every((part) => typeof part === "string")) return undefined;
  const record = recordFromUrlParts(answer as unknown as UrlParts);
  if (record === undefined || !isHostRecordTrusted(record, input) || serialize(record) !== answer[0]) return undefined;
  return record;
}

/** A copy that shares nothing mutable with `record` (URL setters change a record in place). */
export function copyUrlRecord(record: UrlRecord): UrlRecord {
  return {
    ...record,
    host: Array.isArray(record.host) ? [...record.host] : record.host,
    path: Array.isArray(record.path) ? [...record.path] : record.path,
  };
}
