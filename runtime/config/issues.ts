/**
 * Problems found while validating, on their way to a ConfigError: zod's
 * issues with the value that was found where it helps ("expected an integer
 * from 0 to 65535, got 70000"), and the issues of the checks that zod does
 * not do, in one list ordered by where they are in the document.
 *
 * Values under `vars` and `secrets` are never quoted back: a secret written
 * into the file by mistake (`"KEY": "sk_live_..."`) must not reach a log, and
 * operators put sensitive things in vars even when they should not.
 */
import { z } from "zod";
import { formatPath, type ConfigIssue } from "./errors.js";
import { knownKeysAt, preview, unknownKeyMessage } from "./schema-helpers.js";

/** A problem at a path given as parts (`["apps", 3, "name"]`). */
export interface PathIssue {
  readonly parts: ReadonlyArray<string | number>;
  readonly message: string;
}

/**
 * Messages for the zod issues our helpers do not word themselves. Passed to
 * `safeParse`, this map runs after the schema's own messages, so it only
 * rewrites a message that is still zod's default.
 */
export const configErrorMap: z.ZodErrorMap = (issue, ctx) => {
  const zodDefault = z.defaultErrorMap(issue, { data: ctx.data as unknown, defaultError: "" }).message;
  if (ctx.defaultError !== zodDefault) return { message: ctx.defaultError };
  if (issue.code === "invalid_type") {
    if (issue.received === "undefined") return { message: "required" };
    return { message: `expected ${issue.expected === "object" || issue.expected === "array" ? "an" : "a"} ${issue.expected}` };
  }
  return { message: zodDefault.charAt(0).toLowerCase() + zodDefault.slice(1) };
};

function valueAt(root: unknown, parts: ReadonlyArray<string | number>): unknown {
  let value = root;
  for (const part of parts) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/**
 * zod's issues, each with the value found at its path unless that would say
 * nothing or too much; an object's unknown keys as one issue per key.
 */
export function zodPathIssues(error: z.ZodError, input: unknown, schema: z.ZodTypeAny): PathIssue[] {
  return error.issues.flatMap((issue): PathIssue[] => {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, issue.path);
      return issue.keys.map((key) => ({ parts: [...issue.path, key], message: unknownKeyMessage(key, known) }));
    }
    const quiet = issue.code === "custom" && (issue.params as { showValue?: boolean } | undefined)?.showValue === false;
    const value = valueAt(input, issue.path);
    if (quiet || value === undefined || value === "" || issue.path.includes("vars") || issue.path.includes("secrets")) return [{ parts: issue.path, message: issue.message }];
    const sized = Array.isArray(value) && (issue.code === "too_small" || issue.code === "too_big");
    return [{ parts: issue.path, message: `${issue.message}, got ${sized ? value.length : preview(value)}` }];
  });
}

/**
 * Where `parts` is in the document, as one number per level: the index of
 * the key among its object's keys as written (or the array index); a key
 * that is missing (a "required" issue) sorts after the ones present.
 */
function documentPosition(input: unknown, parts: ReadonlyArray<string | number>): number[] {
  const position: number[] = [];
  let value = input;
  for (const part of parts) {
    if (Array.isArray(value) && typeof part === "number") {
      position.push(part);
      value = value[part] as unknown;
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const index = Object.keys(value).indexOf(String(part));
      position.push(index === -1 ? Number.MAX_SAFE_INTEGER : index);
      value = (value as Record<string, unknown>)[String(part)];
    } else {
      position.push(Number.MAX_SAFE_INTEGER);
      value = undefined;
    }
  }
  return position;
}

function compareDocumentPositions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/**
 * Formatted, in the order the document has them (whichever check found
 * them), so that one app's problems read together and top to bottom; two
 * problems at one path keep the order they were found in.
 */
export function toConfigIssues(issues: readonly PathIssue[], input: unknown): ConfigIssue[] {
  return issues
    .map((issue) => ({ issue, position: documentPosition(input, issue.parts) }))
    .sort((a, b) => compareDocumentPositions(a.position, b.position))
    .map(({ issue }) => ({ path: formatPath(issue.parts), message: issue.message }));
}
