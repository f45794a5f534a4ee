import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Loader, Plugin } from "esbuild";
import { sha256Hex } from "./content-hash.js";

/** esbuild's default loaders for the source types apps are written in (confined builds load only these). */
export const LOADERS_BY_EXTENSION: ReadonlyMap<string, Loader> = new Map<string, Loader>([
  [".js", "js"],
  [".mjs", "js"],
  [".cjs", "js"],
  [".jsx", "jsx"],
  [".ts", "ts"],
  [".mts", "ts"],
  [".cts", "ts"],
  [".tsx", "tsx"],
  [".json", "json"],
]);

/**
 * esbuild plugin that reads source files itself and records the sha256 of
 * the exact bytes handed to esbuild, keyed by absolute path. Hashing the files
 * again after the build would miss an edit made while esbuild ran, and the
 * cache would then serve a bundle of the old text as if it were the new one.
 * Files of other types are left to esbuild (hashed after the build).
 */
export function recordContentsPlugin(hashes: Map<string, string>): Plugin {
  return {
    name: "edgehost-record-contents",
    setup(build) {
      build.onLoad({ filter: /.*/, namespace: "file" }, async (args) => {
        const loader = LOADERS_BY_EXTENSION.get(path.extname(args.path));
        if (loader === undefined) return undefined;
        const contents = await readFile(args.path);
        hashes.set(args.path, sha256Hex(contents));
        return { contents, loader };
      });
    },
  };
}
