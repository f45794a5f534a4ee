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

/** Edit distance with transpositions (optimal string alignment), for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (beforePrevious[j - 2] ?? 0) + 1);
      current[j] = best;
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** "unknown key", with the nearest known key when it is close enough to be a typo. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  const limit = Math.max(1, Math.floor(key.length / 3));
  return best !== undefined && bestDistance <= limit ? `unknown key (did you mean "${best}"?)` : `unknown key (expected one of: ${known.join(", ")})`;
}

/**
 * An object that refuses unknown keys. zod v3's `.strict()` reports them in
 * one issue per object and goes on checking the known keys; issues.ts splits
 * it into one issue per key with a "did you mean".
 *
 * Why no refine/transform anywhere on the per-app path: zod v3 builds the
 * full path array for every effect it runs, which made 10,000 apps cost
 * 4-5x more to validate than the same schema with native checks only.
 */
export function strictObject<T extends z.ZodRawShape>(shape: T, invalidTypeMessage = "expected an object") {
  return z.object(shape, { invalid_type_error: invalidTypeMessage, required_error: "required" }).strict();
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
export function text(max: number, what = "a string") {
  return z
    .string({ invalid_type_error: `expected ${what}`, required_error: "required" })
    .min(1, `expected ${what}, not an empty string`)
    .max(max, `expected ${what} of at most ${max} characters`);
}

/** A file-system path (resolved against the config file's directory later). */
export function path() {
  return text(4096, "a path").regex(/^[^\0]*$/, "a path cannot contain a NUL character");
}

/**
 * A string matching `pattern`, with `what` saying what that is. The pattern
 * bounds the length itself, so one message covers both.
 */
export function matching(pattern: RegExp, what: string) {
  return z.string({ invalid_type_error: `expected ${what}`, required_error: "required" }).regex(pattern, `expected ${what}`);
}

/** An array of `min` to `max` items. */
export function array<T extends z.ZodTypeAny>(item: T, min: number, max: number, what: string) {
  const message = `expected ${min} to ${max} ${what}`;
  return z.array(item, { invalid_type_error: `expected an array of ${what}`, required_error: "required" }).min(min, message).max(max, message);
}

/** Unwrap optional, default and effects layers to the schema that parses the value. */
function unwrap(schema: z.ZodTypeAny): z.ZodTypeAny {
  for (;;) {
    if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodTypeAny;
    else if (schema instanceof z.ZodDefault) schema = schema.removeDefault() as z.ZodTypeAny;
    else if (schema instanceof z.ZodEffects) schema = schema.innerType() as z.ZodTypeAny;
    else return schema;
  }
}

/** The keys of the object schema at `parts` below `root` (for unknown-key suggestions). */
export function knownKeysAt(root: z.ZodTypeAny, parts: ReadonlyArray<string | number>): string[] {
  let schema = unwrap(root);
  for (const part of parts) {
    if (schema instanceof z.ZodObject) {
      const child = (schema.shape as Record<string, z.ZodTypeAny | undefined>)[part];
      if (child === undefined) return [];
      schema = unwrap(child);
    } else if (schema instanceof z.ZodArray) schema = unwrap(schema.element as z.ZodTypeAny);
    else if (schema instanceof z.ZodRecord) schema = unwrap(schema.valueSchema as z.ZodTypeAny);
    else return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
}
