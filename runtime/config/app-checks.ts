/**
 * Checks that zod cannot express per value: unique names, no name both a var
 * and a secret, and (optionally) that entries and asset directories exist.
 * They read the raw input, so they run, and report, even when another part
 * of the document is invalid.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { PathIssue } from "./issues.js";
import { rawObject, rawString, type RawObject } from "./raw-input.js";
import { APP_NAME } from "./schema.js";
import { preview } from "./schema-helpers.js";

export type RawApps = ReadonlyArray<{ readonly index: number; readonly app: RawObject }>;

/** A second app with a name already taken, at the second one's `name`. */
export function duplicateNameIssues(apps: RawApps): PathIssue[] {
  const issues: PathIssue[] = [];
  const firstIndex = new Map<string, number>();
  for (const { index, app } of apps) {
    const name = rawString(app, "name");
    if (name === undefined || !APP_NAME.test(name)) continue;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, index);
    else issues.push({ parts: ["apps", index, "name"], message: `${preview(name)} is already the name of apps[${first}]` });
  }
  return issues;
}

/** A name both in `vars` and in `secrets`: the app's `env` can hold only one of them. */
export function bindingClashIssues(apps: RawApps): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const { index, app } of apps) {
    const vars = rawObject(app, "vars");
    const secrets = rawObject(app, "secrets");
    if (vars === undefined || secrets === undefined) continue;
    for (const key of Object.keys(secrets)) {
      if (Object.hasOwn(vars, key)) issues.push({ parts: ["apps", index, "secrets", key], message: "also defined in vars: a name is either a var or a secret" });
    }
  }
  return issues;
}

function kindOf(path: string): string {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return "missing";
    return stats.isFile() ? "file" : stats.isDirectory() ? "directory" : "other";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? "unreadable";
  }
}

/**
 * Each app's entry is a file and its assets (if any) a directory. One stat
 * each: 10,000 apps cost a few tens of ms, and a typo in one of them is
 * reported at start-up with all the others instead of on its first request.
 */
export function fileIssues(apps: RawApps, baseDir: string): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const { index, app } of apps) {
    const entry = rawString(app, "entry");
    if (entry !== undefined && entry !== "" && !entry.includes("\0")) {
      const path = resolve(baseDir, entry);
      const kind = kindOf(path);
      if (kind !== "file") issues.push({ parts: ["apps", index, "entry"], message: kind === "missing" ? `no such file: ${path}` : `not a readable file (${kind}): ${path}` });
    }
    const assets = rawString(app, "assets");
    if (assets !== undefined && assets !== "" && !assets.includes("\0")) {
      const path = resolve(baseDir, assets);
      const kind = kindOf(path);
      if (kind !== "directory") issues.push({ parts: ["apps", index, "assets"], message: kind === "missing" ? `no such directory: ${path}` : `not a directory (${kind}): ${path}` });
    }
  }
  return issues;
}
