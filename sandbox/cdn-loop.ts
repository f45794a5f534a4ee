/**
 * Loop guard for outbound fetch, after RFC 8586 (`CDN-Loop`), as workerd and
 * CDNs do it: every subrequest carries the host's own entry
 * `edgehost; hops=N`, where N is one more than the hop count of the request
 * that made it. The host reads that count from the inbound headers itself
 * (never from the isolate) and refuses subrequests past
 * {@link MAX_FETCH_DEPTH}, so an app that fetches itself, or two apps that
 * fetch each other, stop after a bounded number of hops.
 */

/** The cdn-id edgehost writes into CDN-Loop. */
export const CDN_LOOP_ID = "edgehost";
/** Hops a request may already have taken and still make subrequests. */
export const MAX_FETCH_DEPTH = 16;
/** Longest CDN-Loop value read from an inbound request, in characters; the rest is ignored. */
const MAX_INBOUND_CHARS = 8192;

const HOPS_PARAM = /^hops\s*=\s*"?(\d{1,6})"?$/i;

/**
 * The hop count of an inbound request: the largest of the number of
 * `edgehost` entries in its CDN-Loop headers and the `hops=` parameters on
 * them (0 when there are none). Entries a client adds can only raise it.
 * `headers` is the flat, lower-case-named list the front end read.
 */
export function inboundHopCount(headers: readonly string[]): number {
  let hops = 0;
  let entries = 0;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] !== "cdn-loop") continue;
    const value = (headers[i + 1] ?? "").slice(0, MAX_INBOUND_CHARS);
    for (const info of value.split(",")) {
      const [id = "", ...params] = info.split(";").map((part) => part.trim());
      if (id.toLowerCase() !== CDN_LOOP_ID) continue;
      entries++;
      for (const param of params) {
        const match = HOPS_PARAM.exec(param);
        if (match) hops = Math.max(hops, Number(match[1]));
      }
    }
  }
  return Math.max(hops, entries);
}

/**
 * `headers` (lower-case names) with the app's CDN-Loop headers merged into
 * one and the host's entry for a request with `inboundHops` hops appended.
 */
export function withLoopMarker(headers: ReadonlyArray<readonly [string, string]>, inboundHops: number): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  const entries: string[] = [];
  for (const header of headers) {
    if (header[0] === "cdn-loop") {
      if (header[1] !== "") entries.push(header[1]);
    } else out.push(header);
  }
  entries.push(`${CDN_LOOP_ID}; hops=${inboundHops + 1}`);
  out.push(["cdn-loop", entries.join(", ")]);
  return out;
}
