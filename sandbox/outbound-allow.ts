/**
 * An app's outbound allow list (`outbound.allow` in edgehost.json): which
 * hosts its `fetch` may reach. Checked by the host before any connection or
 * DNS lookup, and again in the connector for every redirect hop, so neither
 * a patched prelude nor a redirect gets past it.
 */

/** One allowed host: exactly `host`, any subdomain of `host` (not `host` itself), or any host. */
export interface OutboundHostRule {
  readonly match: "exact" | "wildcard" | "any";
  /** Lower-case; the suffix after `*.` for a wildcard. */
  readonly host: string;
}

/** True if `hostname` (as a URL's hostname: lower-case, IPv6 in brackets) may be fetched under `rules`. */
export function isOutboundHostAllowed(hostname: string, rules: readonly OutboundHostRule[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  for (const rule of rules) {
    if (rule.match === "any") return true;
    if (rule.match === "exact" && host === rule.host) return true;
    if (rule.match === "wildcard" && host.length > rule.host.length + 1 && host.endsWith(`.${rule.host}`)) return true;
  }
  return false;
}
