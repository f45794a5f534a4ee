import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";
import { isConfigError, type ConfigError, type ConfigIssue } from "../../runtime/config/index.js";

/**
 * A fresh temporary directory holding `files` (relative path -> contents),
 * removed when the test ends. Returns its real path.
 */
export function configDir(t: ExecutionContext, files: Readonly<Record<string, string>> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), "edgehost-config-")));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [file, contents] of Object.entries(files)) writeFixture(dir, file, contents);
  return dir;
}

export function writeFixture(dir: string, file: string, contents: string): string {
  const target = path.join(dir, file);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, contents);
  return target;
}

/** Write `config` as `edgehost.json` (or `name`) in `dir`; returns its path. */
export function writeConfig(dir: string, config: unknown, name = "edgehost.json"): string {
  return writeFixture(dir, name, typeof config === "string" ? config : JSON.stringify(config, null, 2));
}

/** Run `load`, expecting a ConfigError; returns it. */
export function expectConfigError(t: ExecutionContext, load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  t.fail("expected a ConfigError");
  throw new Error("unreachable");
}

/** Issues as `path: message` lines, for exact comparisons. */
export function issueLines(issues: readonly ConfigIssue[]): string[] {
  return issues.map((issue) => `${issue.path}: ${issue.message}`);
}

/** The smallest valid app with `name`; its entry file must exist (`app.ts` by default). */
export function app(name: string, extra: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return { name, entry: "app.ts", routes: [`${name}.example.com`], ...extra };
}
