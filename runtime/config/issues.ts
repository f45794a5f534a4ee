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
import { preview } from "./schema-helpers.js";

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

/** zod's issues, each with the value found at its path unless that would say nothing or too much. */
export function zodPathIssues(error: z.ZodError, input: unknown): PathIssue[] {
  return error.issues.map((issue) => {
    const quiet = issue.code === "custom" && (issue.params as { showValue?: boolean } | undefined)?.showValue === false;
    const value = valueAt(input, issue.path);
    if (quiet || value === undefined || issue.path.includes("vars") || issue.path.includes("secrets")) return { parts: issue.path, message: issue.message };
    const sized = Array.isArray(value) && (issue.code === "too_small" || issue.code === "too_big");
    return { parts: issue.path, message: `${issue.message}, got ${sized ? value.length : preview(value)}` };
  });
}

/** The app an issue is about, for ordering: -1 for the sections before `apps`. */
function appIndex(issue: PathIssue): number {
  const [section, index] = issue.parts;
  return section === "apps" && typeof index === "number" ? index : -1;
}

/**
 * Formatted, and ordered by app (stable: within one app, schema problems
 * first, in schema order, then the cross-checks), so that one app's problems
 * read together.
 */
export function toConfigIssues(issues: readonly PathIssue[]): ConfigIssue[] {
  return issues
    .map((issue, order) => ({ issue, order, app: appIndex(issue) }))
    .sort((a, b) => a.app - b.app || a.order - b.order)
    .map(({ issue }) => ({ path: formatPath(issue.parts), message: issue.message }));
}
