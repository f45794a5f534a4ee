/**
 * Stands in for whatwg-url's urlencoded module inside URL-impl.js and
 * URLSearchParams-impl.js (scripts/build-prelude.js swaps it in): the same
 * exports, with the parser and the serializer answering from
 * {@link fastParseUrlencoded} and {@link fastSerializeUrlencoded} when they can.
 */
import { fastParseUrlencoded, fastSerializeUrlencoded } from "./url-fast-path.js";

interface Urlencoded {
  parseUrlencodedString(input: string): Array<[string, string]>;
  serializeUrlencoded(tuples: Array<[string, string]>): string;
}

// The build resolves this specifier to the real urlencoded.js.
declare function require(id: "edgehost-real-urlencoded"): Urlencoded;

const real = require("edgehost-real-urlencoded");

function parseUrlencodedString(input: string): Array<[string, string]> {
  return fastParseUrlencoded(input) ?? real.parseUrlencodedString(input);
}

function serializeUrlencoded(tuples: Array<[string, string]>): string {
  return fastSerializeUrlencoded(tuples) ?? real.serializeUrlencoded(tuples);
}

declare const module: { exports: unknown };
module.exports = { ...real, parseUrlencodedString, serializeUrlencoded };
