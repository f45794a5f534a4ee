import { constants } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import path from "node:path";
import { RUNTIME_MODULE_NAMESPACE, runtimeModuleSource } from "./runtime-modules.js";
import type { Plugin } from "esbuild";
import { sha256Hex } from "./content-hash.js";
import { LOADERS_BY_EXTENSION } from "./record-contents-plugin.js";
import { isNestedResolve, resolveWithoutGuards } from "./resolve-guard-plugin.js";


/** What a confined build has read so far, and why it failed if it did (for the error code). */
export interface ConfinementState {
  /** Real (symlink-free) path of the directory the build is confined to. */
  readonly root: string;
  readonly maxFiles: number;
  readonly maxTotalBytes: number;
  filesLoaded: number;
  bytesLoaded: number;
  /** Set when something resolved or loaded outside `root`. */
  escaped: boolean;
  /** Set when a cap was hit. */
  overLimit: boolean;
}

/** True when `file` is `dir` itself or lies below it (both absolute and normalised). */
export function isWithinDir(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  // "..foo" is a legal name inside dir; only ".." as a whole first segment leaves it.
  return relative === "" || (!path.isAbsolute(relative) && relative !== ".." && !relative.startsWith(`..${path.sep}`));
}

async function realpathOrNull(file: string): Promise<string | null> {
  try {
    return await realpath(file);
  } catch {
    return null;
  }
}

/**
 * The first `package.json` in a directory above `root`, or null. esbuild
 * reads every package.json from a file's directory up to `/` on its own (for
 * `type`, `sideEffects`, `browser` and `imports`), with no option to stop it,
 * so a confined build refuses to run below one rather than let a host file
 * shape the bundle. (tsconfig.json is not looked up: the build passes
 * `tsconfigRaw`.)
 */
export async function packageJsonAbove(root: string): Promise<string | null> {
  let dir = path.dirname(root);
  for (;;) {
    const candidate = path.join(dir, "package.json");
    try {
      await lstat(candidate);
      return candidate;
    } catch {
      // Missing (or unreadable, which esbuild cannot read either): walk on.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function outside(state: ConfinementState, text: string): { errors: [{ text: string }] } {
  state.escaped = true;
  return { errors: [{ text }] };
}

function overLimit(state: ConfinementState, text: string): { errors: [{ text: string }] } {
  state.overLimit = true;
  return { errors: [{ text }] };
}

/**
 * esbuild plugin that confines a build to `state.root`. Every import, of
 * every kind (entry, static, dynamic, require, bare package), is resolved by
 * esbuild and then checked after realpath: an import that lands outside the
 * root (a `../` path, an absolute path, a symlink pointing out, a package
 * found in a node_modules above the root) is refused. The message names the
 * import, never the outside path (the uploader learns nothing of the host);
 * esbuild adds the importer's file:line:col.
 *
 * Every file is then loaded by this plugin, never by esbuild: it checks the
 * real path again (a resolver bug must not become a read), opens it without
 * following symlinks, counts it against the caps and records its sha256 in
 * `hashes`. Only the source types in {@link LOADERS_BY_EXTENSION} load.
 *
 * Must come before any other resolving plugin: the first onResolve that
 * returns a path wins, and this one has to see every import.
 */
export function confinePlugin(state: ConfinementState, hashes: Map<string, string>): Plugin {
  return {
    name: "edgehost-confine",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (isNestedResolve(args.pluginData)) return undefined;
        const resolved = await resolveWithoutGuards(build, args);
        // Unresolvable: let esbuild (and the built-in guard after us, which the
        // shared nested marker skipped) report it in their words.
        if (resolved.errors.length > 0) return undefined;
        if (resolved.external) {
          return outside(state, `cannot import "${args.path}": it would be left to run time, outside the app's files`);
        }
        // data: URLs and other virtual modules name no file.
        if (resolved.namespace !== "file") return undefined;
        const real = await realpathOrNull(resolved.path);
        if (real === null || !isWithinDir(real, state.root)) {
          // A runtime module's bare name (buffer) found outside the upload is the runtime's, as when nothing resolves at all.
          if (runtimeModuleSource(args.path) !== undefined) return { path: args.path, namespace: RUNTIME_MODULE_NAMESPACE };
          return outside(state, `cannot import "${args.path}": it resolves outside the app's directory`);
        }
        return {
          path: real,
          namespace: "file",
          sideEffects: resolved.sideEffects,
          suffix: resolved.suffix,
          // esbuild types pluginData as any; we only pass it through.
          pluginData: resolved.pluginData as unknown,
        };
      });

      build.onLoad({ filter: /.*/, namespace: "file" }, async (args) => {
        const name = path.relative(state.root, args.path);
        const loader = LOADERS_BY_EXTENSION.get(path.extname(args.path));
        if (loader === undefined) {
          return { errors: [{ text: `cannot load ${name}: only ${[...LOADERS_BY_EXTENSION.keys()].join(" ")} files are bundled` }] };
        }
        const real = await realpathOrNull(args.path);
        if (real === null || !isWithinDir(real, state.root)) {
          return outside(state, `cannot load ${name}: it lies outside the app's directory`);
        }
        // Counted before the first await: esbuild loads files in parallel, and a
        // check made after it would let every concurrent load pass.
        if (state.filesLoaded >= state.maxFiles) {
          return overLimit(state, `cannot load ${name}: the app has more than ${state.maxFiles} source files`);
        }
        state.filesLoaded += 1;
        // O_NOFOLLOW: the real path has no symlink left, so one appearing now is a swap, not a link to follow.
        const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
        try {
          const stats = await handle.stat();
          if (!stats.isFile()) return { errors: [{ text: `cannot load ${name}: not a regular file` }] };
          if (state.bytesLoaded + stats.size > state.maxTotalBytes) {
            return overLimit(state, `cannot load ${name}: the app's sources exceed ${state.maxTotalBytes} bytes`);
          }
          state.bytesLoaded += stats.size;
          // Read exactly the size counted, never "to the end": a file that grew
          // since stat must not make the host buffer more than the cap allows.
          const contents = Buffer.alloc(stats.size);
          let filled = 0;
          while (filled < stats.size) {
            const { bytesRead } = await handle.read(contents, filled, stats.size - filled, filled);
            if (bytesRead === 0) break;
            filled += bytesRead;
          }
          if (filled !== stats.size) return { errors: [{ text: `cannot load ${name}: it changed while being read` }] };
          hashes.set(args.path, sha256Hex(contents));
          return { contents, loader };
        } finally {
          await handle.close();
        }
      });
    },
  };
}
