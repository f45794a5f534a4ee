import { cp, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import type { ExecutionContext } from "ava";
import { BUNDLE_FILENAME, BUNDLE_GLOBAL_NAME } from "../loader/index.js";

/** test/fixtures/loader in the source tree (tests run from dist/test). */
export const LOADER_FIXTURES_DIR = fileURLToPath(new URL("../../test/fixtures/loader/", import.meta.url));

/**
 * Copies fixture `name` into a fresh temporary directory (removed when the
 * test ends) so that each test has its own files and its own bundle cache.
 * Returns the directory's real path (esbuild and the loader report real paths).
 */
export async function copyFixture(t: ExecutionContext, name: string): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), `edgehost-loader-${name}-`)));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(path.join(LOADER_FIXTURES_DIR, name), dir, { recursive: true });
  return dir;
}

/**
 * Installs a tiny package in `<appDir>/node_modules/<name>` with the given
 * files (relative path -> contents). Made at test time because the repo
 * ignores node_modules/ directories.
 */
export async function installPackage(appDir: string, name: string, files: Readonly<Record<string, string>>): Promise<string> {
  const packageDir = path.join(appDir, "node_modules", name);
  for (const [file, contents] of Object.entries(files)) {
    const target = path.join(packageDir, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, contents);
  }
  return packageDir;
}

/**
 * The `tiny-pkg` the basic fixture imports: its export conditions tell which
 * file esbuild picked ("workerd" is the one edgehost must choose).
 */
export async function installTinyPackage(appDir: string): Promise<string> {
  return installPackage(appDir, "tiny-pkg", {
    "package.json": JSON.stringify({
      name: "tiny-pkg",
      version: "1.0.0",
      exports: { ".": { workerd: "./workerd.js", node: "./node.js", default: "./default.js" } },
    }),
    "workerd.js": 'export default "workerd build";\n',
    "node.js": 'export default "node build";\n',
    "default.js": 'export default "default build";\n',
  });
}

/** Evaluates a bundle as the sandbox does (file name app.js) and returns what it exported. */
export interface EvaluatedApp {
  readonly default: { fetch(request: { url: string }, env: Record<string, string>): unknown };
}

/**
 * Runs a bundle in a fresh V8 context under the file name the sandbox uses,
 * and returns the app module it assigned to the bundle's global.
 */
export function evaluateBundle(code: string): EvaluatedApp {
  const context: Record<string, unknown> = {};
  vm.runInNewContext(code, context, { filename: BUNDLE_FILENAME });
  return context[BUNDLE_GLOBAL_NAME] as EvaluatedApp;
}
