/**
 * Stands in for whatwg-url's lib/encoding.js (scripts/build-prelude.js swaps
 * it in): the original builds a TextEncoder/TextDecoder from whatever the
 * globals are when URL is first used, which by then tenant code may have
 * replaced. Decoding uses the prelude's own UTF-8 decoder.
 *
 * Encoding has its own function here, not TextEncoder's: the URL parser
 * encodes one code point at a time (percent-encoding) and short strings,
 * and V8 optimises a function for the inputs it has seen. Shared, a
 * TextEncoder warmed up by the parser encoded 1 KB of text 3x slower
 * (ops bench: 3 -> 9-10 µs after the URL op had run first).
 */
import { IntrinsicUint8Array } from "./intrinsics.js";

export { utf8DecodeWithoutBOM } from "./utf8.js";

/** UTF-8 of a code unit at `i` of `input` (a surrogate pair counts as one code point, a lone surrogate as U+FFFD). */
function codePointAt(input: string, i: number): number {
  const unit = input.charCodeAt(i);
  if (unit < 0xd800 || unit > 0xdfff) return unit;
  const next = i + 1 < input.length ? input.charCodeAt(i + 1) : 0;
  if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) return 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
  return 0xfffd;
}

/** The UTF-8 encoding of `input` (the URL parser's short strings). */
export function utf8Encode(input: string): Uint8Array {
  let bytes = 0;
  for (let i = 0; i < input.length; i++) {
    const codePoint = codePointAt(input, i);
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    if (codePoint >= 0x10000) i++;
  }
  const out = new IntrinsicUint8Array(bytes);
  let written = 0;
  for (let i = 0; i < input.length; i++) {
    const codePoint = codePointAt(input, i);
    if (codePoint < 0x80) {
      out[written++] = codePoint;
    } else if (codePoint < 0x800) {
      out[written++] = 0xc0 | (codePoint >> 6);
      out[written++] = 0x80 | (codePoint & 0x3f);
    } else if (codePoint < 0x10000) {
      out[written++] = 0xe0 | (codePoint >> 12);
      out[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
      out[written++] = 0x80 | (codePoint & 0x3f);
    } else {
      out[written++] = 0xf0 | (codePoint >> 18);
      out[written++] = 0x80 | ((codePoint >> 12) & 0x3f);
      out[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
      out[written++] = 0x80 | (codePoint & 0x3f);
      i++;
    }
  }
  return out;
}
