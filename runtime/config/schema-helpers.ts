/**
 * zod building blocks for the config schema, each with the message a user
 * reads. Messages say what is expected; the value found is added when the
 * issue is formatted (see issues.ts), so they stay static here.
 */
import { z } from "zod";

/** Set on issues whose message must not be followed by the value found. */
export const NO_VALUE = { showValue: false } as const;

/** A short, escaped rendering of a value found in the config, for messages. */
export function preview(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  const text = typeof value === "string" ? JSON.stringify(value) : typeof value === "number" || typeof value === "boolean" ? String(value) : typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Edit distance, for "did you mean" on unknown keys (keys are short). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === lower ? 0 : distance(lower, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return best !== undefined && bestDistance <= limit ? `unknown key (did you mean "${best}"?)` : `unknown key (expected one of: ${known.join(", ")})`;
}

/**
 * An object that refuses unknown keys, one issue per key at the key's own
 * path with a "did you mean". Done in a preprocess step rather than with
 * `.strict()` so that the check runs even when a sibling value is invalid
 * (zod skips later refinements once a parse has failed) and names each key.
 */
export function strictObject<T extends z.ZodRawShape>(shape: T, invalidTypeMessage = "expected an object") {
  const known = Object.keys(shape);
  return z.preprocess(
    (value, ctx) => {
      if (isPlainObject(value)) {
        for (const key of Object.keys(value)) {
          if (!Object.hasOwn(shape, key)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: unknownKeyMessage(key, known), params: NO_VALUE });
        }
      }
      return value;
    },
    z.object(shape, { invalid_type_error: invalidTypeMessage, required_error: "required" }),
  );
}

/** An integer in [min, max]. */
export function integer(min: number, max: number) {
  const message = `expected an integer from ${min} to ${max}`;
  return z.number({ invalid_type_error: message, required_error: "required" }).int(message).min(min, message).max(max, message);
}

/** A number greater than 0 and at most `max` (fractions allowed). */
export function positiveNumber(max: number) {
  const message = `expected a number greater than 0 and at most ${max}`;
  return z.number({ invalid_type_error: message, required_error: "required" }).positive(message).max(max, message);
}

export function boolean() {
  return z.boolean({ invalid_type_error: "expected true or false", required_error: "required" });
}

/** A non-empty string of at most `max` characters. */
export function text(max: number, what = "a non-empty string") {
  const message = `expected ${what} of at most ${max} characters`;
  return z.string({ invalid_type_error: `expected ${what}`, required_error: "required" }).min(1, message).max(max, message);
}

/** A file-system path (resolved against the config file's directory later). */
export function path() {
  return text(4096, "a path").refine((value) => !value.includes("\0"), "a path cannot contain a NUL character");
}

/** A string matching `pattern`, with `what` saying what that is. */
export function matching(pattern: RegExp, what: string, max = 256) {
  return z.string({ invalid_type_error: `expected ${what}`, required_error: "required" }).max(max, `expected ${what} of at most ${max} characters`).regex(pattern, `expected ${what}`);
}

/** An array of `min` to `max` items. */
export function array<T extends z.ZodTypeAny>(item: T, min: number, max: number, what: string) {
  const message = `expected ${min} to ${max} ${what}`;
  return z.array(item, { invalid_type_error: `expected an array of ${what}`, required_error: "required" }).min(min, message).max(max, message);
}

/** A string parsed by `parse` (which returns the reason when it refuses). */
export function parsed<T>(parse: (value: string) => T | string, what: string) {
  return z.string({ invalid_type_error: `expected ${what} (a string)`, required_error: "required" }).transform((value, ctx): T => {
    const result = parse(value);
    if (typeof result === "string") {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${preview(value)} is not ${what}: ${result}`, params: NO_VALUE });
      return z.NEVER;
    }
    return result;
  });
}
