/**
 * UTF-8 encode and decode, as the Encoding Standard defines them. Used by
 * TextEncoder/TextDecoder, the body readers and the URL parser. No host call:
 * bodies are decoded inside the isolate so the host never sees tenant strings
 * it did not ask for.
 */

/** Code units are turned into a string in slices of this many, below V8's argument limit. */
const CHUNK_UNITS = 8192;

/** Number of UTF-8 bytes `input` encodes to (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8ByteLength(input: string): number {
  let bytes = 0;
  const length = input.length;
  for (let i = 0; i < length; i++) {
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

/** UTF-8 encoding of `input` in a buffer of exactly the right size. */
export function utf8Encode(input: string): Uint8Array {
  const out = new Uint8Array(utf8ByteLength(input));
  utf8EncodeInto(input, out);
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
      // Runs of ASCII are the common case: copy them in one go.
      let end = i;
      while (end < length && (bytes[end] as number) < 0x80 && end - i < CHUNK_UNITS) end++;
      if (end > i) {
        if (units.length > 0) {
          result += String.fromCharCode.apply(null, units);
          units = [];
        }
        result += String.fromCharCode.apply(null, bytes.subarray(i, end) as unknown as number[]);
        i = end;
        continue;
      }
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
