import { canonicalHost } from "../host-header.js";

/**
 * A route pattern taken apart. The grammar, after Cloudflare Workers routes
 * but with the path as a plain prefix instead of a trailing `/*`:
 *
 * ```
 * pattern = host-part [ path-prefix ]
 * host-part = "*" | "*." host | host     (host: a name or IP literal, no port)
 * path-prefix = "/" ...                  (no "*", "?", "#" or dot segment)
 * ```
 *
 * `*` alone matches every host (what `edgehost run` routes by). `*.example.com`
 * matches every name below example.com, at any depth, but not example.com
 * itself, as Cloudflare's `*.example.com/*` does; list both for both.
 */
export interface RoutePattern {
  readonly kind: "exact" | "wildcard" | "any";
  /** Exact: the host name; wildcard: the suffix after `*.`; any: "". Lower-case, no trailing dot. */
  readonly host: string;
  /** The path prefix, or "" when the route takes every path of its host (written as nothing or "/"). */
  readonly prefix: string;
}

/** The pattern, or a one-line reason why it is not one. */
export type ParsedRoutePattern = { readonly ok: true; readonly pattern: RoutePattern } | { readonly ok: false; readonly reason: string };

/** Characters a path prefix may hold: those a request pathname holds unchanged (pchar and "/"), less "*". */
const PREFIX_CHARS = /^\/[A-Za-z0-9\-._~!$&'()+,;=:@/%]*$/;
const DOT_SEGMENT = /\/(\.|%2e)(\.|%2e)?(\/|$)/i;

/** Parse one route pattern; never throws. */
export function parseRoutePattern(text: string): ParsedRoutePattern {
  const slash = text.indexOf("/");
  const hostText = (slash < 0 ? text : text.slice(0, slash)).toLowerCase();
  const prefixText = slash < 0 ? "" : text.slice(slash);
  const prefix = parsePrefix(prefixText);
  if (typeof prefix !== "string") return prefix;
  if (hostText === "*") return { ok: true, pattern: { kind: "any", host: "", prefix } };
  const isWildcard = hostText.startsWith("*.");
  const name = isWildcard ? hostText.slice(2) : hostText;
  if (name.includes("*")) return bad("a wildcard is allowed only as a leading `*.` label or as `*` alone");
  const host = parseHost(name);
  if (typeof host !== "string") return host;
  return { ok: true, pattern: { kind: isWildcard ? "wildcard" : "exact", host, prefix } };
}

function parseHost(name: string): string | { ok: false; reason: string } {
  if (name === "") return bad("no host");
  // Routes match names only; the port is whatever the listener's is.
  const portColon = name.startsWith("[") ? name.indexOf(":", name.indexOf("]")) : name.indexOf(":");
  if (portColon >= 0) return bad("a route names no port");
  const host = name.endsWith(".") ? name.slice(0, -1) : name;
  // The form the Host header is brought to, or requests could never match.
  if (canonicalHost(host) !== host) return bad(`"${name}" is not a host name in canonical form`);
  return host;
}

function parsePrefix(text: string): string | { ok: false; reason: string } {
  if (text === "" || text === "/") return "";
  if (text.includes("*")) return bad("a path is a prefix already: write `host/api/`, not `host/api/*`");
  if (!PREFIX_CHARS.test(text)) return bad(`path prefix "${text}" holds a character a request path cannot (such as ?, #, a space or a non-ASCII one)`);
  if (DOT_SEGMENT.test(text)) return bad(`path prefix "${text}" holds a dot segment, which no request path keeps`);
  return text;
}

function bad(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
