import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import type { BuildOptions, Message } from "esbuild";
import { BUNDLE_GLOBAL_NAME, SUPPORTED_ENTRY_EXTENSIONS } from "./app-bundle.js";
import type { AppBundle, BundleAppOptions } from "./app-bundle.js";
import { digestConfigFiles, readCachedBuild, writeCachedBuild } from "./bundle-cache.js";
import type { BuildIdentity, FileDigest } from "./bundle-cache.js";
import { hashFile, sha256Hex } from "./content-hash.js";
import { LoaderError } from "./errors.js";
import { formatBuildMessages } from "./format-build-messages.js";
import { recordContentsPlugin } from "./record-contents-plugin.js";
import { hostNodeModulesDir, resolveGuardPlugin } from "./resolve-guard-plugin.js";
import { createStackMapper } from "./stack-mapper.js";

/** Part of the options fingerprint: bump when the loader's own build logic changes the output. */
const LOADER_BUILD_VERSION = 1;

/** Default cache directory name, created beside the entry. */
export const DEFAULT_CACHE_DIR_NAME = ".edgehost-cache";

let esbuildRuns = 0;

/** How many times this process has run esbuild (cache hits do not count); for tests and stats. */
export function esbuildRunCount(): number {
  return esbuildRuns;
}

/** The esbuild options for an entry, without plugins (those are not data, and not fingerprinted). */
function buildOptions(entryPath: string, appDir: string): BuildOptions {
  return {
    entryPoints: [entryPath],
    // Resolution starts from the app's directory, never from edgehost's.
    absWorkingDir: appDir,
    nodePaths: [],
    bundle: true,
    format: "iife",
    globalName: BUNDLE_GLOBAL_NAME,
    platform: "neutral",
    mainFields: ["browser", "module", "main"],
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    sourcemap: "inline",
    sourcesContent: false,
    keepNames: true,
    minify: false,
    write: false,
    metafile: true,
    logLevel: "silent",
  };
}

async function resolveEntry(entryPath: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path.resolve(entryPath));
    if (!(await stat(real)).isFile()) throw new Error("not a file");
  } catch (error) {
    throw new LoaderError("EDGE_LOADER_ENTRY_NOT_FOUND", `entry not found: ${entryPath}`, { cause: error });
  }
  const extension = path.extname(real);
  if (!SUPPORTED_ENTRY_EXTENSIONS.includes(extension)) {
    throw new LoaderError(
      "EDGE_LOADER_UNSUPPORTED_ENTRY",
      `unsupported entry: ${entryPath} (expected one of ${SUPPORTED_ENTRY_EXTENSIONS.join(" ")})`,
    );
  }
  return real;
}

function isBuildFailure(error: unknown): error is { errors: Message[] } {
  return typeof error === "object" && error !== null && Array.isArray((error as { errors?: unknown }).errors);
}

/** Runs esbuild; returns the bundle and the digests of what went into it. */
async function runEsbuild(
  options: BuildOptions,
  appDir: string,
): Promise<{ code: string; inputs: FileDigest[] }> {
  const recorded = new Map<string, string>();
  esbuildRuns += 1;
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = (await esbuild.build({
      ...options,
      plugins: [resolveGuardPlugin(), recordContentsPlugin(recorded)],
    })) as esbuild.BuildResult<{ write: false; metafile: true }>;
  } catch (error) {
    if (!isBuildFailure(error)) throw error;
    const lines = formatBuildMessages(error.errors, appDir);
    throw new LoaderError("EDGE_LOADER_BUILD_FAILED", lines.join("\n"), { cause: error });
  }
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("esbuild produced no output file");
  const inputs: FileDigest[] = [];
  for (const key of Object.keys(result.metafile.inputs)) {
    const file = path.resolve(appDir, key);
    // Keys of virtual modules (other namespaces) name no file: they hash to null and are skipped.
    const sha256 = recorded.get(file) ?? (await hashFile(file));
    if (sha256 !== null) inputs.push({ path: file, sha256 });
  }
  return { code: output.text, inputs };
}

function makeBundle(entryPath: string, code: string, hash: string, inputs: readonly string[], fromCache: boolean): AppBundle {
  const appDir = path.dirname(entryPath);
  const mapStack = createStackMapper(code, appDir, appDir);
  return { entryPath, code, hash, inputs, fromCache, mapStack };
}

/**
 * Bundles an app's entry (.ts .js .mjs .mts .cjs) with its relative imports
 * and the packages in the app's own node_modules into one IIFE script that
 * assigns `__edgehost_app`, with an inline source map.
 *
 * Unless `options.cache` is false, the bundle is cached in `options.cacheDir`
 * (default `<entry dir>/.edgehost-cache/`) and reused, without running
 * esbuild, while every input file keeps its content hash. Cache read and
 * write problems are never fatal.
 *
 * @throws LoaderError `EDGE_LOADER_ENTRY_NOT_FOUND` (`entry not found: <path>`),
 *   `EDGE_LOADER_UNSUPPORTED_ENTRY`, or `EDGE_LOADER_BUILD_FAILED` whose message
 *   has one `file:line:col: text` line per problem (syntax errors, unresolved
 *   imports, Node built-in imports), paths relative to the current directory.
 */
export async function bundleApp(entryPath: string, options: BundleAppOptions = {}): Promise<AppBundle> {
  const entry = await resolveEntry(entryPath);
  const appDir = path.dirname(entry);
  const esbuildOptions = buildOptions(entry, appDir);
  const identity: BuildIdentity = {
    entryPath: entry,
    esbuildVersion: esbuild.version,
    optionsFingerprint: sha256Hex(
      JSON.stringify({ esbuildOptions, loader: LOADER_BUILD_VERSION, hostNodeModules: hostNodeModulesDir() }),
    ),
  };
  const useCache = options.cache !== false;
  const cacheDir = path.resolve(options.cacheDir ?? path.join(appDir, DEFAULT_CACHE_DIR_NAME));

  if (useCache) {
    const cached = await readCachedBuild(cacheDir, identity);
    if (cached !== null) return makeBundle(entry, cached.code, cached.hash, cached.inputs, true);
  }

  const built = await runEsbuild(esbuildOptions, appDir);
  const hash = sha256Hex(built.code);
  const inputPaths = built.inputs.map((input) => input.path);
  if (useCache) {
    try {
      const configFiles = await digestConfigFiles(inputPaths);
      await writeCachedBuild(cacheDir, identity, { code: built.code, hash, inputs: built.inputs, configFiles });
    } catch {
      // A read-only or full disk costs a rebuild next time, not this start.
    }
  }
  return makeBundle(entry, built.code, hash, inputPaths, false);
}
