import test from "ava";
import { Utf8DecoderState, utf8DecodeChunk, utf8Encode } from "../sandbox/prelude/utf8.js";

// Node's TextEncoder/TextDecoder implement the Encoding Standard: the
// reference the prelude's fast paths must agree with byte for byte.

/** A small deterministic generator, so that a failure can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Mostly valid UTF-8 with invalid and cut-off sequences mixed in. */
function byteSoup(next: () => number, length: number): Uint8Array {
  const pieces = [0x61, 0x7f, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0x80, 0xbf, 0xc0, 0xc1, 0xe0, 0xed, 0xa0, 0xf4, 0x90, 0xf5, 0xff, 0x8f, 0x9f];
  const text = new TextEncoder().encode("aé€😀 東京 🦊");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() < 0.5 ? (text[Math.floor(next() * text.length)] as number) : (pieces[Math.floor(next() * pieces.length)] as number);
  return out;
}

test("utf8: one-shot decode agrees with the Encoding Standard on generated input, fatal and not", (t) => {
  const next = random(7);
  for (let round = 0; round < 3000; round++) {
    const bytes = byteSoup(next, Math.floor(next() * 40));
    t.is(utf8DecodeChunk(new Utf8DecoderState(), bytes, false, true), new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes), `bytes ${bytes.join(",")}`);
    let expected: string;
    try {
      expected = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      expected = "TypeError";
    }
    let actual: string;
    try {
      actual = utf8DecodeChunk(new Utf8DecoderState(), bytes, true, true);
    } catch (error) {
      actual = error instanceof TypeError ? "TypeError" : String(error);
    }
    t.is(actual, expected, `fatal, bytes ${bytes.join(",")}`);
  }
});

test("utf8: streaming decode agrees with the Encoding Standard wherever the chunks are cut", (t) => {
  const next = random(11);
  for (let round = 0; round < 2000; round++) {
    const bytes = byteSoup(next, Math.floor(next() * 30));
    const state = new Utf8DecoderState();
    let actual = "";
    let at = 0;
    while (at < bytes.length) {
      const end = Math.min(bytes.length, at + 1 + Math.floor(next() * 5));
      actual += utf8DecodeChunk(state, bytes.subarray(at, end), false, false);
      at = end;
    }
    actual += utf8DecodeChunk(state, new Uint8Array(0), false, true);
    t.is(actual, new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes), `bytes ${bytes.join(",")}`);
  }
});

test("utf8: long inputs decode across the fast path's windows", (t) => {
  const text = "ASCII run, then é€😀 and more; ".repeat(2000);
  const bytes = new TextEncoder().encode(text);
  t.is(utf8DecodeChunk(new Utf8DecoderState(), bytes, false, true), text);
  const ascii = new TextEncoder().encode("x".repeat(100_000));
  t.is(utf8DecodeChunk(new Utf8DecoderState(), ascii, false, true), "x".repeat(100_000));
});

test("utf8: encode agrees with the Encoding Standard, lone surrogates included", (t) => {
  const next = random(13);
  const units = [0x61, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x20ac, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xffff];
  for (let round = 0; round < 3000; round++) {
    let input = "";
    const length = Math.floor(next() * 30);
    for (let i = 0; i < length; i++) input += String.fromCharCode(next() < 0.5 ? 0x61 : (units[Math.floor(next() * units.length)] as number));
    t.deepEqual([...utf8Encode(input)], [...new TextEncoder().encode(input)], `input ${JSON.stringify(input)}`);
  }
  t.is(utf8Encode("").byteLength, 0);
  // Through the scratch space (up to 5461 code units) and past it (copied while ASCII, then counted and written).
  for (const text of ["é😀\ud800x".repeat(4000), `${"a".repeat(100)}${"€".repeat(5361)}`, `${"a".repeat(100)}${"€".repeat(5362)}`, "a".repeat(5462), "€".repeat(5461)]) {
    t.deepEqual(Buffer.from(utf8Encode(text)), Buffer.from(new TextEncoder().encode(text)));
  }
});
