import { readFileSync, realpathSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { OnResolveArgs, Plugin, PluginBuild, ResolveResult } from "esbuild";
import { RUNTIME_MODULE_NAMESPACE, runtimeModuleSource } from "./runtime-modules.js";

/**
 * Marks the nested `build.resolve` calls of edgehost's resolving plugins
 * (this guard and the confinement plugin). One marker for all of them: with
 * one each, two plugins that resolve through esbuild would call each other
 * for ever.
 */
export const NESTED_RESOLVE = Symbol("edgehost-nested-resolve");

/** True when an onResolve call is one of edgehost's own nested resolves. */
export function isNestedResolve(pluginData: unknown): boolean {
  return typeof pluginData === "object" && pluginData !== null && NESTED_RESOLVE in pluginData;
}

/** Resolve `args` as esbuild would, marked so that the guards (this one and confine-plugin's) let it through. */
export function resolveWithoutGuards(build: PluginBuild, args: OnResolveArgs): Promise<ResolveResult> {
  return build.resolve(args.path, {
    kind: args.kind,
    importer: args.importer,
    namespace: args.namespace,
    resolveDir: args.resolveDir,
    with: args.with,
    pluginData: { [NESTED_RESOLVE]: true },
  });
}

const BUILTIN_NAMES: ReadonlySet<string> = new Set(builtinModules);

/** True for `fs`, `fs/promises`, `node:anything` and every other Node built-in name. */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || BUILTIN_NAMES.has(specifier);
}

/** The one-line text for an import of a Node built-in (location is added by esbuild). */
export function builtinImportText(specifier: string): string {
  return `cannot import Node built-in "${specifier}": edgehost apps run in a V8 isolate without Node APIs`;
}

function isBareSpecifier(specifier: string): boolean {
  return !specifier.startsWith(".") && !path.isAbsolute(specifier);
}

let cachedHostNodeModules: string | null | undefined;

/**
 * The node_modules directory of the edgehost package itself (its real path),
 * found by walking up from this file to the package.json named "edgehost"; null when not found
 * (then there is nothing to guard against).
 */
export function hostNodeModulesDir(): string | null {
  if (cachedHostNodeModules !== undefined) return cachedHostNodeModules;
  cachedHostNodeModules = null;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown };
      if (manifest.name === "edgehost") {
        const nodeModules = path.join(dir, "node_modules");
        // esbuild reports real paths: a symlinked node_modules (a git worktree, pnpm) must compare as its target.
        try {
          cachedHostNodeModules = realpathSync(nodeModules);
        } catch {
          cachedHostNodeModules = nodeModules;
        }
        break;
      }
    } catch {
      // No (readable) package.json here: keep walking up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return cachedHostNodeModules;
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

/**
 * esbuild plugin that keeps an app's imports inside what an isolate can run
 * and what the app itself installed:
 *
 * - a Node built-in (`fs`, `node:crypto`, ...) is refused with one clear line,
 *   unless the app installed a package of that bare name (a polyfill such as
 *   `buffer` or `events`), which is then bundled like any package, or the
 *   isolate provides it (`node:buffer`, runtime-modules.ts);
 * - a package that resolves into edgehost's own node_modules is refused: an
 *   app that lives inside the edgehost tree (e.g. examples/) would otherwise
 *   silently bundle the server's dependencies, and break once moved.
 *
 * esbuild attaches the import's file:line:col to the errors returned here.
 */
export function resolveGuardPlugin(hostNodeModules: string | null = hostNodeModulesDir()): Plugin {
  return {
    name: "edgehost-resolve-guard",
    setup(build) {
      build.onLoad({ filter: /.*/, namespace: RUNTIME_MODULE_NAMESPACE }, (args) => ({ contents: runtimeModuleSource(args.path) ?? "", loader: "js" }));
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (isNestedResolve(args.pluginData)) return undefined;
        if (args.kind === "entry-point" || !isBareSpecifier(args.path)) return undefined;
        const resolved = await resolveWithoutGuards(build, args);
        const reachesHost =
          resolved.errors.length === 0 && hostNodeModules !== null && isInside(resolved.path, hostNodeModules);
        if (isNodeBuiltin(args.path) && (resolved.errors.length > 0 || reachesHost)) {
          // node:buffer and friends: what the isolate itself provides (runtime-modules.ts).
          if (runtimeModuleSource(args.path) !== undefined) return { path: args.path, namespace: RUNTIME_MODULE_NAMESPACE };
          return { errors: [{ text: builtinImportText(args.path) }] };
        }
        if (reachesHost) {
          return {
            errors: [
              {
                text: `cannot import "${args.path}": it is not installed in the app's node_modules (edgehost's own packages are not visible to apps)`,
              },
            ],
          };
        }
        // cloudflare:workers and friends: what the isolate itself provides (runtime-modules.ts).
        if (resolved.errors.length > 0 && runtimeModuleSource(args.path) !== undefined) return { path: args.path, namespace: RUNTIME_MODULE_NAMESPACE };
        // Let esbuild resolve it again and report its own "Could not resolve" error if any.
        if (resolved.errors.length > 0) return undefined;
        return {
          path: resolved.path,
          namespace: resolved.namespace,
          external: resolved.external,
          sideEffects: resolved.sideEffects,
          suffix: resolved.suffix,
          // esbuild types pluginData as any; we only pass it through.
          pluginData: resolved.pluginData as unknown,
        };
      });
    },
  };
}
