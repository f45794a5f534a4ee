import { createHash } from "node:crypto";
import type { TrafficSplit, VersionId } from "./manifest.js";

/**
 * The bucket of a request key, 0-99: the first four bytes of its sha256 as
 * an unsigned integer, modulo 100 (the bias of 2^32 mod 100 is under 1e-7).
 */
export function splitBucket(requestKey: string): number {
  return createHash("sha256").update(requestKey).digest().readUInt32BE(0) % 100;
}

/**
 * The version a request goes to under a canary split: the split's version for
 * keys whose bucket is below `percent`, the active one otherwise. Pure and
 * deterministic, so one key (a client address, a session id) sticks to one
 * version while the split lasts, and over many keys the split's share tends
 * to `percent`. Callers should put the app's name into the key, or the same
 * clients would be the canary of every app.
 */
export function pickVersion(split: TrafficSplit | null, activeId: VersionId, requestKey: string): VersionId {
  if (split === null || split.percent <= 0) return activeId;
  if (split.percent >= 100) return split.versionId;
  return splitBucket(requestKey) < split.percent ? split.versionId : activeId;
}
