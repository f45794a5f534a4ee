/**
 * Uint8Array base64 and hex (ECMA-262 2026: Uint8Array.fromBase64 and
 * fromHex, %Uint8Array.prototype% toBase64, toHex, setFromBase64 and
 * setFromHex), which workerd's V8 has and Node 20's V8 11.3 lacks.
 *
 * Follows the spec's algorithms wherever the order is observable: which
 * check throws first, when option getters run, what `read` counts and which
 * bytes setFrom* has written before it throws. Receivers are checked by
 * internal slot and sized through the intrinsic getters, and no built-in a
 * tenant can replace is looked up after load.
 */
import { getPrototypeOf, IntrinsicUint8Array, stringCharCodeAt, typedArrayBuffer, typedArrayByteLength, typedArrayName, typedArraySet } from "./intrinsics.js";

const IntrinsicUint16Array = Uint16Array;
const IntrinsicInt8Array = Int8Array;
const IntrinsicTypeError = TypeError;
const IntrinsicSyntaxError = SyntaxError;
const { defineProperty } = Object;
const { apply } = Reflect;
const { fromCharCode } = String;
/** ValidateTypedArray in one O(1) call: throws a TypeError for a detached or out-of-bounds array. */
const typedArrayAt = Function.prototype.call.bind((getPrototypeOf(IntrinsicUint8Array.prototype) as Uint8Array).at) as unknown as (self: Uint8Array, index: number) => unknown;

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX = "0123456789abcdef";
/** Lower case first, so that the index of a digit is its value up to 15. */
const HEX_DIGITS = "0123456789abcdefABCDEF";
/** Infra's ASCII whitespace, which the decoder skips (U+000B is not in it). */
const ASCII_WHITESPACE = "\t\n\f\r ";
const EQUALS = 0x3d;
/** Decode-table entries below the sextet values 0-63. */
const INVALID = -1;
const WHITESPACE = -2;
const PADDING = -3;
/** lastChunkHandling. */
const LOOSE = 0;
const STRICT = 1;
const STOP_BEFORE_PARTIAL = 2;
/** Code units per String.fromCharCode call: a multiple of 4 and 2, far below V8's argument limit. */
const WINDOW_UNITS = 8192;
const MAX_LENGTH = 2 ** 53 - 1;

// Built on first use: an isolate that never calls these pays nothing.
let encodeTables: [base64: Uint8Array, base64url: Uint8Array, hex: Uint8Array] | null = null;
let decodeTables: [base64: Int8Array, base64url: Int8Array, hex: Int8Array] | null = null;

function codesOf(alphabet: string): Uint8Array {
  const codes = new IntrinsicUint8Array(alphabet.length);
  for (let i = 0; i < alphabet.length; i++) codes[i] = stringCharCodeAt(alphabet, i);
  return codes;
}

function encodeTable(which: 0 | 1 | 2): Uint8Array {
  encodeTables ??= [codesOf(BASE64), codesOf(BASE64URL), codesOf(HEX)];
  return encodeTables[which];
}

/** Value per ASCII code unit: sextet or hexit, else INVALID (and WHITESPACE / PADDING for base64). */
function decodeTable(which: 0 | 1 | 2): Int8Array {
  if (decodeTables === null) {
    // Plain loops: this runs after tenant code, which may have patched fill() or the array iterator.
    const base64 = new IntrinsicInt8Array(128);
    const base64url = new IntrinsicInt8Array(128);
    const hex = new IntrinsicInt8Array(128);
    for (let i = 0; i < 128; i++) base64[i] = base64url[i] = hex[i] = INVALID;
    for (let i = 0; i < 64; i++) {
      base64[stringCharCodeAt(BASE64, i)] = i;
      base64url[stringCharCodeAt(BASE64URL, i)] = i;
    }
    for (let i = 0; i < 5; i++) base64[stringCharCodeAt(ASCII_WHITESPACE, i)] = base64url[stringCharCodeAt(ASCII_WHITESPACE, i)] = WHITESPACE;
    base64[EQUALS] = base64url[EQUALS] = PADDING;
    for (let i = 0; i < 22; i++) hex[stringCharCodeAt(HEX_DIGITS, i)] = i < 16 ? i : i - 6;
    decodeTables = [base64, base64url, hex];
  }
  return decodeTables[which];
}

/**
 * A code-unit buffer for Reflect.apply(fromCharCode). apply reads an
 * array-like's length with [[Get]], which for a typed array would reach a
 * tenant's %TypedArray%.prototype.length getter; an own data property stops it.
 */
function unitWindow(units: Uint16Array, length: number): Uint16Array {
  defineProperty(units, "length", { __proto__: null, value: length } as PropertyDescriptor);
  return units;
}

/** units[0, count) as a string; `units` is a window of `size` units. */
function unitsString(units: Uint16Array, count: number, size: number): string {
  const view = count === size ? units : unitWindow(new IntrinsicUint16Array(typedArrayBuffer(units), 0, count), count);
  return apply(fromCharCode, undefined, view) as string;
}

/**
 * A value as V8 names it in its messages (workerd's are V8's, and apps
 * diffed against workerd see them), without running any of its code.
 */
function renderForMessage(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "symbol") return "Symbol()";
  if (typeof value === "function") return "function";
  if (typeof value !== "object" || value === null) return String(value);
  return "#<Object>";
}

/** ValidateUint8Array: the internal slot, not the prototype chain. */
function uint8ArrayThis(value: unknown, method: string): Uint8Array {
  if (typedArrayName(value) !== "Uint8Array") throw new IntrinsicTypeError(`Method Uint8Array.prototype.${method} called on incompatible receiver ${renderForMessage(value)}`);
  return value as Uint8Array;
}

/** The array's length, or a TypeError if its buffer is detached or it is out of bounds. */
function attachedLength(bytes: Uint8Array, method: string): number {
  const length = typedArrayByteLength(bytes);
  // The getter answers 0 for a detached or out-of-bounds array too; only then is the slower check needed.
  if (length === 0) {
    try {
      typedArrayAt(bytes, 0);
    } catch {
      throw new IntrinsicTypeError(`Uint8Array.prototype.${method} called on a detached or out-of-bounds Uint8Array`);
    }
  }
  return length;
}

function stringArgument(value: unknown, method: string): string {
  if (typeof value !== "string") throw new IntrinsicTypeError("input argument must be a string");
  return value;
}

/** GetOptionsObject; undefined stands for the spec's empty object, so no Object.prototype getter runs. */
function optionsObject(options: unknown): Record<string, unknown> | undefined {
  if (options === undefined) return undefined;
  if ((typeof options === "object" && options !== null) || typeof options === "function") return options as Record<string, unknown>;
  throw new IntrinsicTypeError("invalid_argument");
}

/** The `alphabet` option: 0 for "base64", 1 for "base64url" (compared, never converted). */
function alphabetOption(options: Record<string, unknown> | undefined): 0 | 1 {
  const alphabet = options === undefined ? undefined : options.alphabet;
  if (alphabet === undefined || alphabet === "base64") return 0;
  if (alphabet === "base64url") return 1;
  throw new IntrinsicTypeError(`invalid option ${renderForMessage(alphabet)}`);
}

function lastChunkHandlingOption(options: Record<string, unknown> | undefined): number {
  const handling = options === undefined ? undefined : options.lastChunkHandling;
  if (handling === undefined || handling === "loose") return LOOSE;
  if (handling === "strict") return STRICT;
  if (handling === "stop-before-partial") return STOP_BEFORE_PARTIAL;
  throw new IntrinsicTypeError(`invalid option ${renderForMessage(handling)}`);
}

/** The window for an output of `outLength` (> 0) units: the whole output if it is short. */
function windowFor(outLength: number): Uint16Array {
  const size = outLength < WINDOW_UNITS ? outLength : WINDOW_UNITS;
  return unitWindow(new IntrinsicUint16Array(size), size);
}

function encodeBase64(bytes: Uint8Array, length: number, codes: Uint8Array, pad: boolean): string {
  const rest = length % 3;
  const whole = length - rest;
  const outLength = (whole / 3) * 4 + (rest === 0 ? 0 : pad ? 4 : rest + 1);
  if (outLength === 0) return "";
  const units = windowFor(outLength);
  const size = units.length;
  let text = "";
  let k = 0;
  for (let i = 0; i < whole; i += 3) {
    const triple = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    units[k] = codes[triple >> 18]!;
    units[k + 1] = codes[(triple >> 12) & 63]!;
    units[k + 2] = codes[(triple >> 6) & 63]!;
    units[k + 3] = codes[triple & 63]!;
    k += 4;
    if (k === size) {
      text += apply(fromCharCode, undefined, units) as string;
      k = 0;
    }
  }
  if (rest !== 0) {
    const triple = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
    units[k++] = codes[triple >> 18]!;
    units[k++] = codes[(triple >> 12) & 63]!;
    if (rest === 2) units[k++] = codes[(triple >> 6) & 63]!;
    else if (pad) units[k++] = EQUALS;
    if (pad) units[k++] = EQUALS;
  }
  return k === 0 ? text : text + unitsString(units, k, size);
}

function encodeHex(bytes: Uint8Array, length: number): string {
  if (length === 0) return "";
  const codes = encodeTable(2);
  const units = windowFor(length * 2);
  const size = units.length;
  let text = "";
  let k = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i]!;
    units[k] = codes[byte >> 4]!;
    units[k + 1] = codes[byte & 15]!;
    k += 2;
    if (k === size) {
      text += apply(fromCharCode, undefined, units) as string;
      k = 0;
    }
  }
  return k === 0 ? text : text + unitsString(units, k, size);
}

/** What FromBase64 / FromHex give back; the bytes are already in the target. */
type Decoded = { read: number; written: number; error: string | undefined };

function decoded(read: number, written: number, error?: string): Decoded {
  return { read, written, error };
}

/** setFrom*'s answer: the SyntaxError (the bytes before it are written by then), else read and written. */
function readAndWritten(result: Decoded): { read: number; written: number } {
  if (result.error !== undefined) throw new IntrinsicSyntaxError(result.error);
  return { read: result.read, written: result.written };
}

function skipWhitespace(string: string, index: number, table: Int8Array): number {
  while (index < string.length) {
    const code = stringCharCodeAt(string, index);
    if (code >= 128 || table[code] !== WHITESPACE) break;
    index++;
  }
  return index;
}

/** The bytes of a 2- or 3-character chunk, or -1 if strict handling rejects its nonzero overflow bits. */
function writePartialChunk(into: Uint8Array, written: number, chunk: number, chunkLength: number, strict: boolean): number {
  if (chunkLength === 2) {
    if (strict && (chunk & 0xf) !== 0) return -1;
    into[written] = chunk >> 4;
    return written + 1;
  }
  if (strict && (chunk & 0x3) !== 0) return -1;
  into[written] = chunk >> 10;
  into[written + 1] = (chunk >> 2) & 0xff;
  return written + 2;
}

/**
 * FromBase64 writing straight into `into` (which has room for what the
 * input can give, or for maxLength bytes): only whole chunks are written
 * before an error, as the spec's byte list has them.
 */
function decodeBase64(string: string, table: Int8Array, handling: number, into: Uint8Array, maxLength: number): Decoded {
  if (maxLength === 0) return decoded(0, 0);
  const length = string.length;
  let read = 0;
  let written = 0;
  let chunk = 0;
  let chunkLength = 0;
  let index = 0;
  for (;;) {
    // Whole chunks without whitespace, the bulk of real input, go four characters at a time.
    while (chunkLength === 0 && index + 4 <= length && maxLength - written >= 3) {
      const a = stringCharCodeAt(string, index);
      const b = stringCharCodeAt(string, index + 1);
      const c = stringCharCodeAt(string, index + 2);
      const d = stringCharCodeAt(string, index + 3);
      if ((a | b | c | d) >= 128) break;
      // Any negative entry (invalid, whitespace, padding) makes the whole quad negative.
      const quad = (table[a]! << 18) | (table[b]! << 12) | (table[c]! << 6) | table[d]!;
      if (quad < 0) break;
      into[written] = quad >> 16;
      into[written + 1] = (quad >> 8) & 0xff;
      into[written + 2] = quad & 0xff;
      written += 3;
      index += 4;
      read = index;
      if (written === maxLength) return decoded(read, written);
    }
    index = skipWhitespace(string, index, table);
    if (index === length) {
      if (chunkLength > 0) {
        if (handling === STOP_BEFORE_PARTIAL) return decoded(read, written);
        if (handling === STRICT) return decoded(read, written, "The base64 input terminates with a single character, excluding padding (=).");
        if (chunkLength === 1) return decoded(read, written, "The base64 input terminates with a single character, excluding padding (=).");
        written = writePartialChunk(into, written, chunk, chunkLength, false);
      }
      return decoded(length, written);
    }
    const code = stringCharCodeAt(string, index++);
    const value = code < 128 ? table[code]! : INVALID;
    if (value === PADDING) {
      if (chunkLength < 2) return decoded(read, written, "Found a character that cannot be part of a valid base64 string.");
      index = skipWhitespace(string, index, table);
      if (chunkLength === 2) {
        if (index === length) {
          if (handling === STOP_BEFORE_PARTIAL) return decoded(read, written);
          return decoded(read, written, handling === STRICT ? "The base64 input terminates with a single character, excluding padding (=)." : "Found a character that cannot be part of a valid base64 string.");
        }
        if (stringCharCodeAt(string, index) === EQUALS) index = skipWhitespace(string, index + 1, table);
      }
      if (index < length) return decoded(read, written, "Found a character that cannot be part of a valid base64 string.");
      const end = writePartialChunk(into, written, chunk, chunkLength, handling === STRICT);
      if (end < 0) return decoded(read, written, "The base64 input terminates with non-zero padding bits.");
      return decoded(length, end);
    }
    if (value < 0) return decoded(read, written, "Found a character that cannot be part of a valid base64 string.");
    const remaining = maxLength - written;
    // The chunk being started would decode to more bytes than are left.
    if ((remaining === 1 && chunkLength === 2) || (remaining === 2 && chunkLength === 3)) return decoded(read, written);
    chunk = (chunk << 6) | value;
    if (++chunkLength === 4) {
      into[written] = chunk >> 16;
      into[written + 1] = (chunk >> 8) & 0xff;
      into[written + 2] = chunk & 0xff;
      written += 3;
      chunk = 0;
      chunkLength = 0;
      read = index;
      if (written === maxLength) return decoded(read, written);
    }
  }
}

/** FromHex writing straight into `into`, at most maxLength bytes. */
function decodeHex(string: string, into: Uint8Array, maxLength: number): Decoded {
  const length = string.length;
  if (length % 2 !== 0) return decoded(0, 0, "Input string must contain hex characters in even length");
  const table = decodeTable(2);
  let read = 0;
  let written = 0;
  while (read < length && written < maxLength) {
    const high = stringCharCodeAt(string, read);
    const low = stringCharCodeAt(string, read + 1);
    const byte = ((high < 128 ? table[high]! : INVALID) << 4) | (low < 128 ? table[low]! : INVALID);
    // INVALID in either half makes the combination negative.
    if (byte < 0) return decoded(read, written, "Input string must contain hex characters in even length");
    into[written++] = byte;
    read += 2;
  }
  return decoded(read, written);
}

/** The bytes `into[0, written)` in a Uint8Array of their own, exactly that long (as the spec allocates it). */
function exactBytes(into: Uint8Array, written: number): Uint8Array {
  if (written === typedArrayByteLength(into)) return into;
  const out = new IntrinsicUint8Array(written);
  typedArraySet(out, new IntrinsicUint8Array(typedArrayBuffer(into), 0, written));
  return out;
}

const statics = {
  fromBase64(string: unknown, options?: unknown): Uint8Array {
    const input = stringArgument(string, "Uint8Array.fromBase64");
    const opts = optionsObject(options);
    const alphabet = alphabetOption(opts);
    const handling = lastChunkHandlingOption(opts);
    // An upper bound on the output (padding never decodes), exact for unbroken padded or unpadded input.
    let units = input.length;
    if (units > 0 && stringCharCodeAt(input, units - 1) === EQUALS) units -= units > 1 && stringCharCodeAt(input, units - 2) === EQUALS ? 2 : 1;
    const into = new IntrinsicUint8Array((units * 3) >>> 2);
    const result = decodeBase64(input, decodeTable(alphabet), handling, into, MAX_LENGTH);
    if (result.error !== undefined) throw new IntrinsicSyntaxError(result.error);
    return exactBytes(into, result.written);
  },
  fromHex(string: unknown): Uint8Array {
    const input = stringArgument(string, "Uint8Array.fromHex");
    const into = new IntrinsicUint8Array(input.length >> 1);
    const result = decodeHex(input, into, MAX_LENGTH);
    if (result.error !== undefined) throw new IntrinsicSyntaxError(result.error);
    return into;
  },
};

const methods = {
  toBase64(this: unknown, options?: unknown): string {
    const bytes = uint8ArrayThis(this, "toBase64");
    const opts = optionsObject(options);
    const alphabet = alphabetOption(opts);
    const omitPadding = opts === undefined ? false : !!opts.omitPadding;
    return encodeBase64(bytes, attachedLength(bytes, "toBase64"), encodeTable(alphabet), !omitPadding);
  },
  toHex(this: unknown): string {
    const bytes = uint8ArrayThis(this, "toHex");
    return encodeHex(bytes, attachedLength(bytes, "toHex"));
  },
  setFromBase64(this: unknown, string: unknown, options?: unknown): { read: number; written: number } {
    const into = uint8ArrayThis(this, "setFromBase64");
    const input = stringArgument(string, "Uint8Array.prototype.setFromBase64");
    const opts = optionsObject(options);
    const alphabet = alphabetOption(opts);
    const handling = lastChunkHandlingOption(opts);
    return readAndWritten(decodeBase64(input, decodeTable(alphabet), handling, into, attachedLength(into, "setFromBase64")));
  },
  setFromHex(this: unknown, string: unknown): { read: number; written: number } {
    const into = uint8ArrayThis(this, "setFromHex");
    const input = stringArgument(string, "Uint8Array.prototype.setFromHex");
    return readAndWritten(decodeHex(input, into, attachedLength(into, "setFromHex")));
  },
};

/** Spec `length` of each function (TypeScript's optional parameters would count). */
const LENGTHS: Record<string, number> = { fromBase64: 1, fromHex: 1, toBase64: 0, toHex: 0, setFromBase64: 1, setFromHex: 1 };

function install(target: object, functions: Record<string, unknown>): void {
  for (const name of Object.keys(functions)) {
    if (Object.prototype.hasOwnProperty.call(target, name)) continue;
    const fn = functions[name];
    defineProperty(fn, "length", { value: LENGTHS[name] });
    defineProperty(fn, "name", { value: name });
    defineProperty(target, name, { value: fn, writable: true, enumerable: false, configurable: true });
  }
}

/**
 * Installs the methods on Uint8Array and its prototype, each only where V8
 * has none (newer V8 ships them natively). Runs at prelude load, before
 * tenant code.
 */
export function installUint8ArrayBase64(): void {
  install(IntrinsicUint8Array, statics);
  install(IntrinsicUint8Array.prototype, methods);
}
