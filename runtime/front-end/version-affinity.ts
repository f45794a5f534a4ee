/**
 * Version affinity under a traffic split: a client that sends the same key
 * is always served by the same side of the split, as Cloudflare's
 * `Cloudflare-Workers-Version-Key` does for gradual deployments. Without a
 * key each request is drawn on its own.
 *
 * The side is a stable hash of the canary's version and the key, compared
 * with the percentage: the same key stays on its side for as long as the
 * split lasts, widening the split only moves keys onto the canary (never
 * back), and a new canary version deals the keys afresh. The key comes from
 * the client, so a client can pick its side by trying keys; that is the
 * point of the header (a tester pins itself), and no more than a client can
 * do without it by retrying.
 */
import type { SandboxRequest } from "../../sandbox/index.js";

type FlatHeaders = SandboxRequest["headers"];

/** The request header carrying the key (header names arrive lower-cased from uWS). */
export const VERSION_KEY_HEADER = "edgehost-version-key";

/** The first non-empty value of the version key header, if any. */
export function versionKeyOf(headers: FlatHeaders): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (headers[i] === VERSION_KEY_HEADER && headers[i + 1] !== "") return headers[i + 1];
  }
  return undefined;
}

/** 32-bit FNV-1a over the UTF-16 code units, then murmur3's finaliser so that similar keys spread over the whole range. */
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Whether the client holding `key` belongs to the canary `canaryVersionId` that gets `percent` of requests. */
export function isCanaryKey(key: string, canaryVersionId: string | null, percent: number): boolean {
  const bucket = (hash32(`${canaryVersionId ?? "config"}\n${key}`) / 2 ** 32) * 100;
  return bucket < percent;
}
