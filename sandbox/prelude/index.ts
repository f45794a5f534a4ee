/**
 * Prelude entry. Evaluating host.js (first, through the imports) captures the
 * host functions and deletes their temporary global; installGlobals then sets
 * up the Web API. scripts/build-prelude.js wraps the bundle so that the
 * script's completion value is `dispatch` (see protocol.ts).
 */
import { dispatch } from "./dispatch.js";
import { installGlobals } from "./globals.js";

installGlobals();

export { dispatch };
