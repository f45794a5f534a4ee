import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import * as esbuild from "esbuild";
import type { BuildOptions, Message } from "esbuild";
import {
  BUNDLE_GLOBAL_NAME,
  DEFAULT_CONFINED_MAX_FILES,
  DEFAULT_CONFINED_MAX_TOTAL_BYTES,
  SUPPORTED_ENTRY_EXTENSIONS,
} from "./app-bundle.js";
import type { AppBundle, BundleAppOptions, ConfineOptions } from "./app-bundle.js";
import { confinePlugin, isWithinDir, packageJsonAbove } from "./confine-plugin.js";
import type { ConfinementState } from "./confine-plugin.js";
import { digestConfigFiles, readCachedBuild, writeCachedBuild } from "./bundle-cache.js";
import type { BuildIdentity, FileDigest } from "./bundle-cache.js";
import { hashFile, sha256Hex } from "./content-hash.js";
import { LoaderError } from "./errors.js";
import type { LoaderErrorCode } from "./errors.js";
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

/** How a build's plugins are made and how its failures read. */
interface BuildSetup {
  /** The plugins, given the map in which the loading plugin records each file's sha256. */
  plugins(recorded: Map<string, string>): esbuild.Plugin[];
  /** The code of a failed build (the plugins know why they refused). */
  failureCode(): LoaderErrorCode;
  /** Directory the message paths are relative to; default the current directory. */
  readonly displayBaseDir?: string;
}

const PLAIN_BUILD: BuildSetup = {
  plugins: (recorded) => [resolveGuardPlugin(), recordContentsPlugin(recorded)],
  failureCode: () => "EDGE_LOADER_BUILD_FAILED",
};

/** Runs esbuild; returns the bundle and the digests of what went into it. */
async function runEsbuild(
  options: BuildOptions,
  appDir: string,
  setup: BuildSetup = PLAIN_BUILD,
): Promise<{ code: string; inputs: FileDigest[] }> {
  const recorded = new Map<string, string>();
  esbuildRuns += 1;
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = (await esbuild.build({
      ...options,
      plugins: setup.plugins(recorded),
    })) as esbuild.BuildResult<{ write: false; metafile: true }>;
  } catch (error) {
    if (!isBuildFailure(error)) throw error;
    const lines = formatBuildMessages(error.errors, appDir, setup.displayBaseDir);
    throw new LoaderError(setup.failureCode(), lines.join("\n"), { cause: error });
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

/**
 * A bundle built earlier and stored (a deployed version): `code` as the
 * loader produced it, `entryPath` where its entry lay (stack positions map
 * to sources relative to its directory). Nothing is read or built.
 */
export function appBundleFromCode(entryPath: string, code: string): AppBundle {
  return makeBundle(entryPath, code, sha256Hex(code), [], false);
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
 * With `options.confine`, the build reads nothing outside one directory
 * tree; see {@link bundleConfined}.
 *
 * @throws LoaderError `EDGE_LOADER_ENTRY_NOT_FOUND` (`entry not found: <path>`),
 *   `EDGE_LOADER_UNSUPPORTED_ENTRY`, or `EDGE_LOADER_BUILD_FAILED` whose message
 *   has one `file:line:col: text` line per problem (syntax errors, unresolved
 *   imports, Node built-in imports), paths relative to the current directory.
 */
export async function bundleApp(entryPath: string, options: BundleAppOptions = {}): Promise<AppBundle> {
  if (options.confine !== undefined) return bundleConfined(entryPath, options.confine);
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

/**
 * tsconfig for confined builds. Passing one stops esbuild from looking for
 * tsconfig.json files at all: one above the tree would be a host file, and one
 * inside it could `extends` a host file or map `paths` anywhere. An uploaded
 * app's own tsconfig.json is therefore ignored.
 */
const CONFINED_TSCONFIG = { compilerOptions: {} };

/**
 * The confined build behind `bundleApp(entry, { confine })`: every file
 * esbuild reads (the entry, relative and absolute imports, node_modules
 * packages) must resolve, after realpath, inside `confine.root`, and at most
 * `maxFiles` files and `maxTotalBytes` bytes are loaded. A relative `entryPath`
 * is taken relative to the root. The bundle cache is not used. Message paths
 * are relative to the root, and the outside paths an import reached are not
 * named (an uploader learns nothing of the host).
 *
 * @throws LoaderError `EDGE_LOADER_OUTSIDE_ROOT` (an import, a symlink or the
 *   entry leads outside the root, or a package.json lies above it: esbuild
 *   would read it), `EDGE_LOADER_INPUT_LIMIT`, and the codes of `bundleApp`.
 */
async function bundleConfined(entryPath: string, confine: ConfineOptions): Promise<AppBundle> {
  let root: string;
  try {
    root = await realpath(confine.root);
    if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new LoaderError("EDGE_LOADER_ENTRY_NOT_FOUND", `confined build root not found: ${confine.root}`, { cause: error });
  }
  const entry = await resolveEntry(path.resolve(root, entryPath));
  if (!isWithinDir(entry, root)) {
    throw new LoaderError("EDGE_LOADER_OUTSIDE_ROOT", `entry ${entryPath} lies outside the app's directory`);
  }
  const above = await packageJsonAbove(root);
  if (above !== null) {
    throw new LoaderError(
      "EDGE_LOADER_OUTSIDE_ROOT",
      `confined build refused: esbuild would read ${above}, above the app's directory ${root}; keep uploads outside any package`,
    );
  }
  const state: ConfinementState = {
    root,
    maxFiles: confine.maxFiles ?? DEFAULT_CONFINED_MAX_FILES,
    maxTotalBytes: confine.maxTotalBytes ?? DEFAULT_CONFINED_MAX_TOTAL_BYTES,
    filesLoaded: 0,
    bytesLoaded: 0,
    escaped: false,
    overLimit: false,
  };
  const esbuildOptions: BuildOptions = { ...buildOptions(entry, root), absWorkingDir: root, tsconfigRaw: CONFINED_TSCONFIG };
  const built = await runEsbuild(esbuildOptions, root, {
    // The built-in guard still refuses Node built-ins; its host-node_modules
    // check is left to confinement (host packages lie outside the root too).
    plugins: (recorded) => [confinePlugin(state, recorded), resolveGuardPlugin(null)],
    failureCode: () => (state.escaped ? "EDGE_LOADER_OUTSIDE_ROOT" : state.overLimit ? "EDGE_LOADER_INPUT_LIMIT" : "EDGE_LOADER_BUILD_FAILED"),
    displayBaseDir: root,
  });
  const inputPaths = built.inputs.map((input) => input.path);
  return makeBundle(entry, built.code, sha256Hex(built.code), inputPaths, false);
}
