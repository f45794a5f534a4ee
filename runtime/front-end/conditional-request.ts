/** The validators of one file as served: its ETag and its modification time. */
export interface Validators {
  /** A strong entity-tag, quotes included. */
  readonly etag: string;
  /** Modification time in whole seconds since the epoch (HTTP dates have no finer unit). */
  readonly lastModifiedSeconds: number;
}

/** The request's conditional headers (undefined when absent; repeated fields joined with ", "). */
export interface Conditions {
  readonly ifMatch: string | undefined;
  readonly ifNoneMatch: string | undefined;
  readonly ifModifiedSince: string | undefined;
  readonly ifUnmodifiedSince: string | undefined;
}

/** What the preconditions decide for a GET or HEAD of an existing file. */
export type Precondition = "proceed" | "not-modified" | "failed";

const ENTITY_TAG = /(W\/)?("[^"]*")/g;

/**
 * Evaluate the preconditions in the order RFC 9110 section 13.2.2 fixes:
 * If-Match (strong comparison), else If-Unmodified-Since, fail with 412;
 * then If-None-Match (weak comparison), else If-Modified-Since, give 304.
 * A date that does not parse is ignored, as the RFC says.
 */
export function evaluatePreconditions(conditions: Conditions, validators: Validators): Precondition {
  if (conditions.ifMatch !== undefined) {
    if (!matchesAny(conditions.ifMatch, validators.etag, true)) return "failed";
  } else if (conditions.ifUnmodifiedSince !== undefined) {
    const since = httpDateSeconds(conditions.ifUnmodifiedSince);
    if (since !== undefined && validators.lastModifiedSeconds > since) return "failed";
  }
  if (conditions.ifNoneMatch !== undefined) {
    return matchesAny(conditions.ifNoneMatch, validators.etag, false) ? "not-modified" : "proceed";
  }
  if (conditions.ifModifiedSince !== undefined) {
    const since = httpDateSeconds(conditions.ifModifiedSince);
    if (since !== undefined && validators.lastModifiedSeconds <= since) return "not-modified";
  }
  return "proceed";
}

/**
 * Whether a Range may be honoured given its `If-Range` (section 13.1.5):
 * yes without one; with an entity-tag, only if it is strong and equals
 * ours; with a date, only if it is exactly our Last-Modified.
 */
export function isRangeStillValid(ifRange: string | undefined, validators: Validators): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return value === validators.etag;
  return httpDateSeconds(value) === validators.lastModifiedSeconds;
}

/** Whether a list of entity-tags (or "*") holds `etag`; weak comparison ignores `W/`, strong refuses it. */
function matchesAny(list: string, etag: string, strong: boolean): boolean {
  if (list.trim() === "*") return true;
  for (const [, weak, opaque] of list.matchAll(ENTITY_TAG)) {
    if (opaque === etag && (!strong || weak === undefined)) return true;
  }
  return false;
}

/** An HTTP-date in whole seconds, or undefined when it does not parse. */
function httpDateSeconds(value: string): number | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** The HTTP-date (IMF-fixdate) for a time in seconds. */
export function httpDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}
