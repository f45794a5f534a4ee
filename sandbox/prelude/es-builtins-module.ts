/**
 * The lazy module "es-builtins" (scripts/build-prelude.js): the ECMAScript
 * built-ins newer than Node 20's V8, installed together the first time
 * tenant code reads one of them (es-builtins-lazy.ts says why and how).
 */
import { installUint8ArrayBase64 } from "./es-base64-hex.js";
import { installEsBuiltins } from "./es-builtins.js";
import { installIteratorHelpers } from "./es-iterator-helpers.js";

/** Installs every built-in of the three modules that `global`'s V8 lacks. */
export function installAll(global: typeof globalThis): void {
  installEsBuiltins(global);
  installIteratorHelpers(global);
  installUint8ArrayBase64();
}
