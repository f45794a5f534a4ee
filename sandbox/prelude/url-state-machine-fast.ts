/**
 * Stands in for whatwg-url's url-state-machine module inside URL-impl.js
 * (scripts/build-prelude.js swaps it in): the same exports, with
 * basicURLParse answering from {@link fastParseUrl} when it can, then from
 * the host's parser ({@link hostParseUrl}). Setters (stateOverride), parses
 * into an existing record and anything both decline go to the real parser.
 */
import { fastParseUrl } from "./url-fast-path.js";
import { hostParseUrl } from "./url-host-parse.js";
import type { UrlRecord } from "./url-record.js";

interface ParseOptions {
  baseURL?: unknown;
  encodingOverride?: unknown;
  url?: unknown;
  stateOverride?: unknown;
}

interface UrlStateMachine {
  basicURLParse(input: string, options?: ParseOptions): unknown;
  serializeURL(record: UrlRecord): string;
  [name: string]: unknown;
}

// The build resolves this specifier to the real url-state-machine.js.
declare function require(id: "edgehost-real-url-state-machine"): UrlStateMachine;

const real = require("edgehost-real-url-state-machine");
const serializeURL = (record: UrlRecord): string => real.serializeURL(record);

function basicURLParse(input: string, options?: ParseOptions): unknown {
  if (typeof input === "string" && (options === undefined || (options.url === undefined && options.stateOverride === undefined && options.encodingOverride === undefined))) {
    const base = (options?.baseURL ?? null) as UrlRecord | null;
    if (base === null) {
      const record = fastParseUrl(input);
      if (record !== undefined) return record;
    }
    const answer = hostParseUrl(input, base, serializeURL);
    if (answer !== undefined) return answer;
  }
  return real.basicURLParse(input, options);
}

declare const module: { exports: unknown };
module.exports = { ...real, basicURLParse };
