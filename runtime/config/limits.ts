import { DEFAULT_APP_LIMITS, type AppLimits, type LimitsOverride } from "./schema.js";

/**
 * `base` (the built-in defaults when undefined) with the keys `override`
 * sets. Returns `base` itself when nothing is overridden, so the thousands of
 * apps that keep the defaults share one frozen object.
 */
export function mergeLimits(base: AppLimits | undefined, override: LimitsOverride): AppLimits {
  const start = base ?? DEFAULT_APP_LIMITS;
  let merged: { -readonly [K in keyof AppLimits]: AppLimits[K] } | undefined;
  for (const key of Object.keys(DEFAULT_APP_LIMITS) as Array<keyof AppLimits>) {
    const value = override[key];
    if (value === undefined || value === start[key]) continue;
    merged ??= { ...start };
    merged[key] = value;
  }
  return merged === undefined ? start : Object.freeze(merged);
}
