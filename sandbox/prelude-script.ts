import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type ivm from "isolated-vm";

/** Where `npm run build` writes the bundled prelude (next to this module in dist/). */
const PRELUDE_PATH = fileURLToPath(new URL("./prelude.js", import.meta.url));

/** File name the prelude's stack frames carry. */
export const PRELUDE_FILENAME = "edgehost:prelude";

let preludeCode: string | undefined;

/** The prelude source, read once per process. */
export function preludeSource(): string {
  preludeCode ??= readFileSync(PRELUDE_PATH, "utf8");
  return preludeCode;
}

/**
 * V8 code cache per script source, kept in memory for the life of the
 * process: the first isolate compiles and produces it, every later isolate
 * skips parsing. Only our own prelude and bundles we built go in here
 * (trusted storage), never bytes from tenants.
 */
const codeCache = new Map<string, ivm.ExternalCopy<ArrayBuffer>>();

/** Compile `code` in `isolate`, using and filling the code cache under `cacheKey`. */
export async function compileCached(
  isolate: ivm.Isolate,
  code: string,
  filename: string,
  cacheKey: string,
): Promise<ivm.Script> {
  // isolated-vm sets these on the returned script; its typings omit them.
  type CompiledScript = ivm.Script & { cachedDataRejected?: boolean; cachedData?: ivm.ExternalCopy<ArrayBuffer> };
  const cachedData = codeCache.get(cacheKey);
  if (cachedData) {
    const script: CompiledScript = await isolate.compileScript(code, { filename, cachedData });
    if (!script.cachedDataRejected) return script;
    script.release();
    codeCache.delete(cacheKey);
  }
  const script: CompiledScript = await isolate.compileScript(code, { filename, produceCachedData: true });
  if (script.cachedData) codeCache.set(cacheKey, script.cachedData);
  return script;
}


/** Store code cache produced elsewhere (the prelude warm-up) under `cacheKey`. */
export function rememberCompiled(cacheKey: string, cachedData: ivm.ExternalCopy<ArrayBuffer>): void {
  codeCache.get(cacheKey)?.release();
  codeCache.set(cacheKey, cachedData);
}


/** Drop stack frames of the prelude: they are edgehost's plumbing, not the app's code. */
export function withoutPreludeFrames(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => !line.includes(`(${PRELUDE_FILENAME}:`) && !line.trimStart().startsWith(`at ${PRELUDE_FILENAME}:`))
    .join("\n");
}
