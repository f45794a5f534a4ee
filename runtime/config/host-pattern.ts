/**
 * The two host syntaxes of the config: route patterns (`shop.example.com`,
 * `*.shop.example.com`, `example.com/api`, `*` for any host) and outbound
 * allow patterns (`api.stripe.com`, `*.example.net`). Parsed once at load
 * into the normalised form the router and the outbound check compare with
 * the canonical host of a request (runtime/host-header.ts).
 */
import { canonicalHost } from "../host-header.js";

/** How a pattern's host part matches. */
export type HostMatch =
  /** `shop.example.com`: exactly this host. */
  | "exact"
  /** `*.example.com`: any host ending in `.example.com` (not `example.com` itself). */
  | "wildcard"
  /** `*`: any host (the least specific match). */
  | "any";

/** A host pattern, normalised. */
export interface HostPattern {
  /** The pattern as written. */
  readonly pattern: string;
  readonly match: HostMatch;
  /** Lower-case; for "wildcard" the part after `*.`; `""` for "any". */
  readonly host: string;
}

/** A route: a host pattern and a path prefix. */
export interface Route extends HostPattern {
  /**
   * Starts with `/`, no trailing `/` (except the root `/`). Matches on
   * segment boundaries: `/api` matches `/api` and `/api/x`, not `/apix`.
   */
  readonly pathPrefix: string;
}

const MAX_PATTERN_LENGTH = 2048;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** A whole plain DNS name (labels as above, at most 253 characters): the common case, one test. */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Names the URL parser treats specially: ending in a number (IPv4 parsing) or holding an IDNA label. */
const NEEDS_URL_CHECK = /(^|\.)([0-9]+|0x[0-9a-f]*)$|xn--/;
/** Path characters a route may name: RFC 3986 pchar without percent-encoding. */
const PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;

/** A plain DNS name as the front end canonicalises Host headers; a reason if not. */
function checkHostName(host: string): string | undefined {
  // Fast path, the same verdict as below for a plain name (10,000 apps have tens of thousands).
  if (DNS_NAME.test(host) && !NEEDS_URL_CHECK.test(host)) return undefined;
  if (host === "") return "the host is empty";
  if (host.length > 253) return "the host is longer than 253 characters";
  if (/[^\x21-\x7e]/.test(host)) return "the host has spaces or non-ASCII characters (write IDNs in their xn-- form)";
  if (host.includes(":")) return "a pattern has no port (ports are not matched) and no IPv6 literal";
  if (host.endsWith(".")) return "the host ends in a dot";
  if (host.includes("*")) return "'*' may only stand alone or open the host as '*.'";
  if (!host.split(".").every((label) => LABEL.test(label))) return "the host is not a valid DNS name (labels of letters, digits and inner hyphens)";
  // Same rule as for Host headers: a name the URL parser would read as an
  // IPv4 address or change (e.g. `1.2.3` or bad xn-- labels) could never match.
  if (canonicalHost(host) !== host) return "no request's Host can match it (URL parsing reads it as a number or changes it)";
  return undefined;
}

function parseHostPart(text: string, allowAny: boolean): Omit<HostPattern, "pattern"> | string {
  if (text === "*") return allowAny ? { match: "any", host: "" } : "'*' alone is not allowed (leave out allow to allow any public host)";
  const lower = text.toLowerCase();
  if (lower.startsWith("*.")) {
    const host = lower.slice(2);
    const problem = checkHostName(host);
    return problem ?? { match: "wildcard", host };
  }
  return checkHostName(lower) ?? { match: "exact", host: lower };
}

/** Parse an outbound allow pattern (frozen); a string is the reason it is invalid. */
export function parseHostPattern(pattern: string): HostPattern | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  if (pattern.includes("://")) return "a host pattern has no scheme";
  if (pattern.includes("/")) return "a host pattern has no path";
  const host = parseHostPart(pattern, false);
  return typeof host === "string" ? host : Object.freeze({ pattern, ...host });
}

/** Parse a route (frozen); a string is the reason it is invalid. */
export function parseRoute(pattern: string): Route | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  if (pattern.includes("://")) return "a route has no scheme: write host or host/path";
  const slash = pattern.indexOf("/");
  const hostText = slash === -1 ? pattern : pattern.slice(0, slash);
  const host = parseHostPart(hostText, true);
  if (typeof host === "string") return host;
  const path = slash === -1 ? "/" : pattern.slice(slash);
  if (!PATH.test(path)) return "the path has characters a route cannot match (query, fragment, percent-encoding, spaces or non-ASCII)";
  const segments = path.split("/").slice(1);
  // A trailing slash is allowed ("example.com/api/") and means the same prefix.
  if (segments[segments.length - 1] === "") segments.pop();
  if (segments.some((segment) => segment === "")) return "the path has an empty segment ('//')";
  if (segments.some((segment) => segment === "." || segment === "..")) return "the path has '.' or '..' segments";
  return Object.freeze({ pattern, ...host, pathPrefix: `/${segments.join("/")}` });
}

/** The key two routes collide on: same host pattern and same path prefix. */
export function routeKey(route: Route): string {
  return `${route.match} ${route.host} ${route.pathPrefix}`;
}
