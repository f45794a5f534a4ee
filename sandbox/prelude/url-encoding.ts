/**
 * Stands in for whatwg-url's lib/encoding.js (scripts/build-prelude.js swaps
 * it in): the original builds a TextEncoder/TextDecoder from whatever the
 * globals are when URL is first used, which by then tenant code may have
 * replaced. This one uses the prelude's own UTF-8 functions.
 */
export { utf8DecodeWithoutBOM, utf8Encode } from "./utf8.js";
