import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LAZY_MODULE_MARKER, LAZY_MODULE_NAMES } from "./prelude/protocol.js";

/**
 * Sources of the prelude modules that isolates load only on first use
 * (web-streams-polyfill, fflate), built by scripts/build-prelude.js into
 * dist/sandbox/prelude-lazy/. Every idle isolate would otherwise hold their
 * source text (~100 KB of RSS per isolate), since V8 keeps a script's source.
 * Read from disk once per process and only for names in LAZY_MODULE_NAMES:
 * the isolate's word picks one of a fixed set of trusted files, nothing more.
 */
const sources = new Map<string, string>();

/**
 * The source of lazy module `name` for the host function loadModule, or the
 * refusal "bad_argument" for any other name (a source starts with
 * LAZY_MODULE_MARKER, so the prelude tells the two apart).
 */
export function lazyModuleSource(name: unknown): string {
  if (typeof name !== "string" || !(LAZY_MODULE_NAMES as readonly string[]).includes(name)) return "bad_argument";
  let source = sources.get(name);
  if (source === undefined) {
    source = readFileSync(fileURLToPath(new URL(`./prelude-lazy/${name}.js`, import.meta.url)), "utf8");
    if (!source.startsWith(LAZY_MODULE_MARKER)) throw new Error(`prelude-lazy/${name}.js is not a lazy module build`);
    sources.set(name, source);
  }
  return source;
}
