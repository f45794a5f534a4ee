/**
 * Stands in for whatwg-url's url-state-machine module inside URL-impl.js
 * (scripts/build-prelude.js swaps it in): the same exports, with
 * basicURLParse answering from {@link fastParseUrl} when it can. Setters
 * (stateOverride), parses against an existing record and anything the fast
 * path declines go to the real parser.
 */
import { fastParseUrl } from "./url-fast-path.js";

interface ParseOptions {
  baseURL?: unknown;
  encodingOverride?: unknown;
  url?: unknown;
  stateOverride?: unknown;
}

interface UrlStateMachine {
  basicURLParse(input: string, options?: ParseOptions): unknown;
  [name: string]: unknown;
}

// The build resolves this specifier to the real url-state-machine.js.
declare function require(id: "edgehost-real-url-state-machine"): UrlStateMachine;

const real = require("edgehost-real-url-state-machine");

function basicURLParse(input: string, options?: ParseOptions): unknown {
  if (options === undefined || (options.url === undefined && options.stateOverride === undefined && options.encodingOverride === undefined)) {
    const record = typeof input === "string" ? fastParseUrl(input) : undefined;
    if (record !== undefined) return record;
  }
  return real.basicURLParse(input, options);
}

declare const module: { exports: unknown };
module.exports = { ...real, basicURLParse };
