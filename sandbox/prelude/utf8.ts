/**
 * UTF-8 encode and decode, as the Encoding Standard defines them. Used by
 * TextEncoder/TextDecoder, the body readers and the URL parser. No host call:
 * bodies are decoded inside the isolate so the host never sees tenant strings
 * it did not ask for.
 */
import { IntrinsicUint8Array, typedArraySet, uint8Subarray } from "./intrinsics.js";

/** Code units are turned into a string in slices of this many, below V8's argument limit. */
const CHUNK_UNITS = 8192;

/** Number of UTF-8 bytes `input` encodes to (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8ByteLength(input: string): number {
  return byteLengthFrom(input, 0);
}

/** UTF-8 bytes of `input` from code unit `start` on. */
function byteLengthFrom(input: string, start: number): number {
  let bytes = 0;
  const length = input.length;
  for (let i = start; i < length; i++) {
    const unit = input.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < length) {
      const next = input.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Writes the UTF-8 encoding of `input` into `out` starting at 0, stopping
 * before the first code point that does not fit. Returns code units read and
 * bytes written (the TextEncoder.encodeInto contract).
 */
export function utf8EncodeInto(input: string, out: Uint8Array): { read: number; written: number } {
  const length = input.length;
  const capacity = out.length;
  let read = 0;
  let written = 0;
  while (read < length) {
    let codePoint = input.charCodeAt(read);
    let units = 1;
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      const next = read + 1 < length ? input.charCodeAt(read + 1) : 0;
      if (codePoint <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        codePoint = 0x10000 + ((codePoint - 0xd800) << 10) + (next - 0xdc00);
        units = 2;
      } else {
        // A lone surrogate is not a scalar value: it encodes as U+FFFD.
        codePoint = 0xfffd;
      }
    }
    if (codePoint < 0x80) {
      if (written + 1 > capacity) break;
      out[written++] = codePoint;
    } else if (codePoint < 0x800) {
      if (written + 2 > capacity) break;
      out[written++] = 0xc0 | (codePoint >> 6);
      out[written++] = 0x80 | (codePoint & 0x3f);
    } else if (codePoint < 0x10000) {
      if (written + 3 > capacity) break;
      out[written++] = 0xe0 | (codePoint >> 12);
      out[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
      out[written++] = 0x80 | (codePoint & 0x3f);
    } else {
      if (written + 4 > capacity) break;
      out[written++] = 0xf0 | (codePoint >> 18);
      out[written++] = 0x80 | ((codePoint >> 12) & 0x3f);
      out[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
      out[written++] = 0x80 | (codePoint & 0x3f);
    }
    read += units;
  }
  return { read, written };
}

/** Scratch space for encoding strings in one pass (allocated on first use and kept: 16 KB per isolate that encodes text). */
const SCRATCH_BYTES = 16 * 1024;
let scratch: Uint8Array | undefined;

/**
 * Writes the UTF-8 encoding of input[from..] into `out` at `at`, which must
 * have room (three bytes per code unit is always enough); returns the end.
 */
function encodeRest(input: string, from: number, out: Uint8Array, at: number): number {
  const length = input.length;
  let written = at;
  for (let i = from; i < length; i++) {
    let unit = input.charCodeAt(i);
    if (unit < 0x80) {
      out[written++] = unit;
    } else if (unit < 0x800) {
      out[written++] = 0xc0 | (unit >> 6);
      out[written++] = 0x80 | (unit & 0x3f);
    } else {
      if (unit >= 0xd800 && unit <= 0xdfff) {
        const next = i + 1 < length ? input.charCodeAt(i + 1) : 0;
        if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const codePoint = 0x10000 + ((unit - 0xd800) << 10) + (next - 0xdc00);
          out[written++] = 0xf0 | (codePoint >> 18);
          out[written++] = 0x80 | ((codePoint >> 12) & 0x3f);
          out[written++] = 0x80 | ((codePoint >> 6) & 0x3f);
          out[written++] = 0x80 | (codePoint & 0x3f);
          i++;
          continue;
        }
        // A lone surrogate is not a scalar value: it encodes as U+FFFD.
        unit = 0xfffd;
      }
      out[written++] = 0xe0 | (unit >> 12);
      out[written++] = 0x80 | ((unit >> 6) & 0x3f);
      out[written++] = 0x80 | (unit & 0x3f);
    }
  }
  return written;
}

/**
 * UTF-8 encoding of `input` in a buffer of exactly the right size. Strings
 * of up to a few thousand characters are encoded in one pass into scratch
 * space and copied out, so only the result is allocated (counting the bytes
 * first costs as much as encoding them, and every ArrayBuffer is memory the
 * garbage collector has to come back for). Longer ones are copied in one
 * pass while they are ASCII, then counted and written.
 */
export function utf8Encode(input: string): Uint8Array {
  const length = input.length;
  if (length * 3 <= SCRATCH_BYTES) {
    scratch ??= new IntrinsicUint8Array(SCRATCH_BYTES);
    const out = new IntrinsicUint8Array(encodeRest(input, 0, scratch, 0));
    typedArraySet(out, uint8Subarray(scratch, 0, out.length));
    return out;
  }
  const optimistic = new IntrinsicUint8Array(length);
  let ascii = 0;
  for (; ascii < length; ascii++) {
    const unit = input.charCodeAt(ascii);
    if (unit >= 0x80) break;
    optimistic[ascii] = unit;
  }
  if (ascii === length) return optimistic;
  const out = new IntrinsicUint8Array(ascii + byteLengthFrom(input, ascii));
  typedArraySet(out, uint8Subarray(optimistic, 0, ascii));
  encodeRest(input, ascii, out, ascii);
  return out;
}

/** Streaming decoder state (the Encoding Standard's UTF-8 decoder variables). */
export class Utf8DecoderState {
  codePoint = 0;
  bytesNeeded = 0;
  bytesSeen = 0;
  lowerBoundary = 0x80;
  upperBoundary = 0xbf;

  reset(): void {
    this.codePoint = 0;
    this.bytesNeeded = 0;
    this.bytesSeen = 0;
    this.lowerBoundary = 0x80;
    this.upperBoundary = 0xbf;
  }
}

function decodingError(): TypeError {
  return new TypeError("The encoded data was not valid for encoding utf-8");
}

/** Code units of the well-formed run being decoded. Reused: decoding never re-enters, and it is emptied by every run. */
const runUnits: number[] = [];
/** Units collected before they are made into a string (bounds runUnits, and String.fromCharCode's argument count). */
const RUN_WINDOW_UNITS = 4096;
/** Where the last {@link decodeWellFormed} stopped. */
let wellFormedEnd = 0;

/** bytes[start, end), all ASCII, as a string: sixteen bytes per fromCharCode call, which V8 does faster than apply(). */
function asciiString(bytes: Uint8Array, start: number, end: number): string {
  let text = "";
  let i = start;
  if (end - start > CHUNK_UNITS) {
    for (; i + CHUNK_UNITS <= end; i += CHUNK_UNITS) text += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK_UNITS) as unknown as number[]);
  }
  const b = bytes as unknown as number[];
  for (; i + 16 <= end; i += 16) {
    text += String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!, b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!, b[i + 8]!, b[i + 9]!, b[i + 10]!, b[i + 11]!, b[i + 12]!, b[i + 13]!, b[i + 14]!, b[i + 15]!);
  }
  while (i < end) text += String.fromCharCode(b[i++]!);
  return text;
}

/** runUnits as a string, emptying it. */
function takeRunUnits(): string {
  const text = String.fromCharCode.apply(null, runUnits);
  runUnits.length = 0;
  return text;
}

/**
 * Decodes bytes from `start` up to the first byte that does not begin a
 * complete, well-formed sequence, and sets {@link wellFormedEnd} there.
 * Valid UTF-8 is nearly all a decoder sees; this loop handles it without
 * the state machine's per-byte bookkeeping, and the state machine takes
 * over only where the input is invalid or a sequence is cut at the end of
 * a chunk. Same output as the state machine for the bytes it consumes.
 */
function decodeWellFormed(bytes: Uint8Array, start: number): string {
  const length = bytes.length;
  let i = start;
  while (i < length && (bytes[i] as number) < 0x80) i++;
  if (i === length) {
    wellFormedEnd = length;
    return asciiString(bytes, start, length);
  }
  let text = "";
  for (let k = start; k < i; k++) runUnits.push(bytes[k] as number);
  while (i < length) {
    if (runUnits.length >= RUN_WINDOW_UNITS) text += takeRunUnits();
    const b = bytes[i] as number;
    if (b < 0x80) {
      runUnits.push(b);
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      if (i + 1 >= length) break;
      const b1 = bytes[i + 1] as number;
      if ((b1 & 0xc0) !== 0x80) break;
      runUnits.push(((b & 0x1f) << 6) | (b1 & 0x3f));
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      if (i + 2 >= length) break;
      const b1 = bytes[i + 1] as number;
      const b2 = bytes[i + 2] as number;
      // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
      if (b1 < (b === 0xe0 ? 0xa0 : 0x80) || b1 > (b === 0xed ? 0x9f : 0xbf) || (b2 & 0xc0) !== 0x80) break;
      runUnits.push(((b & 0xf) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f));
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      if (i + 3 >= length) break;
      const b1 = bytes[i + 1] as number;
      const b2 = bytes[i + 2] as number;
      const b3 = bytes[i + 3] as number;
      // No overlong forms (F0 80..8F) and nothing past U+10FFFF (F4 90..BF).
      if (b1 < (b === 0xf0 ? 0x90 : 0x80) || b1 > (b === 0xf4 ? 0x8f : 0xbf) || (b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) break;
      const codePoint = ((b & 0x7) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      runUnits.push(0xd800 + ((codePoint - 0x10000) >> 10), 0xdc00 + ((codePoint - 0x10000) & 0x3ff));
      i += 4;
    } else {
      break;
    }
  }
  wellFormedEnd = i;
  return runUnits.length === 0 ? text : text + takeRunUnits();
}

/**
 * Decodes one chunk. With `flush`, an incomplete sequence at the end is an
 * error (U+FFFD, or a TypeError when `fatal`); without it, it waits in `state`
 * for the next chunk. Does not strip a BOM (the caller decides).
 */
export function utf8DecodeChunk(state: Utf8DecoderState, bytes: Uint8Array, fatal: boolean, flush: boolean): string {
  let result = "";
  let units: number[] = [];
  const length = bytes.length;
  let i = 0;
  const emit = (unit: number): void => {
    units.push(unit);
    if (units.length >= CHUNK_UNITS) {
      result += String.fromCharCode.apply(null, units);
      units = [];
    }
  };
  const fail = (): void => {
    if (fatal) throw decodingError();
    emit(0xfffd);
  };
  while (i < length) {
    if (state.bytesNeeded === 0) {
      const run = decodeWellFormed(bytes, i);
      if (wellFormedEnd > i) {
        if (units.length > 0) {
          result += String.fromCharCode.apply(null, units);
          units = [];
        }
        result += run;
        i = wellFormedEnd;
        continue;
      }
      // The byte at i starts an invalid or a cut-off sequence: the state machine takes it.
      const byte = bytes[i++] as number;
      if (byte >= 0xc2 && byte <= 0xdf) {
        state.bytesNeeded = 1;
        state.codePoint = byte & 0x1f;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) state.lowerBoundary = 0xa0;
        if (byte === 0xed) state.upperBoundary = 0x9f;
        state.bytesNeeded = 2;
        state.codePoint = byte & 0xf;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) state.lowerBoundary = 0x90;
        if (byte === 0xf4) state.upperBoundary = 0x8f;
        state.bytesNeeded = 3;
        state.codePoint = byte & 0x7;
      } else {
        fail();
      }
      continue;
    }
    const byte = bytes[i] as number;
    if (byte < state.lowerBoundary || byte > state.upperBoundary) {
      // The byte is not consumed: it starts over as a new sequence.
      state.reset();
      fail();
      continue;
    }
    i++;
    state.lowerBoundary = 0x80;
    state.upperBoundary = 0xbf;
    state.codePoint = (state.codePoint << 6) | (byte & 0x3f);
    state.bytesSeen++;
    if (state.bytesSeen === state.bytesNeeded) {
      const codePoint = state.codePoint;
      state.reset();
      if (codePoint < 0x10000) emit(codePoint);
      else {
        emit(0xd800 + ((codePoint - 0x10000) >> 10));
        emit(0xdc00 + ((codePoint - 0x10000) & 0x3ff));
      }
    }
  }
  if (flush && state.bytesNeeded !== 0) {
    state.reset();
    fail();
  }
  if (units.length > 0) result += String.fromCharCode.apply(null, units);
  return result;
}

/** One-shot decode with replacement, no BOM stripping (URL parser, form data). */
export function utf8DecodeWithoutBOM(bytes: Uint8Array): string {
  return utf8DecodeChunk(new Utf8DecoderState(), bytes, false, true);
}

/** One-shot decode with replacement that strips a leading BOM (the body `text()` reader). */
export function utf8DecodeStripBOM(bytes: Uint8Array): string {
  const text = utf8DecodeWithoutBOM(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
