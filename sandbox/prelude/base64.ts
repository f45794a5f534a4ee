/** atob and btoa with the HTML Standard's forgiving-base64 rules. */
import { DOMException } from "./dom-exception.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Sextet value per ASCII code unit (-1 for none), built on the first atob call. */
let decodeTable: Int16Array | null = null;

function sextets(): Int16Array {
  if (decodeTable === null) {
    decodeTable = new Int16Array(128).fill(-1);
    for (let i = 0; i < ALPHABET.length; i++) decodeTable[ALPHABET.charCodeAt(i)] = i;
  }
  return decodeTable;
}

function invalid(message: string): DOMException {
  return new DOMException(message, "InvalidCharacterError");
}

/** Base64 of a binary string whose code units are all <= 0xFF. */
export function btoa(data: unknown): string {
  if (arguments.length === 0) throw new TypeError("btoa: 1 argument required, but only 0 present");
  const input = String(data);
  let out = "";
  const length = input.length;
  for (let i = 0; i < length; i += 3) {
    const a = input.charCodeAt(i);
    const b = i + 1 < length ? input.charCodeAt(i + 1) : 0;
    const c = i + 2 < length ? input.charCodeAt(i + 2) : 0;
    if (a > 0xff || b > 0xff || c > 0xff) throw invalid("btoa: the string contains characters outside of the Latin1 range");
    const triple = (a << 16) | (b << 8) | c;
    out += ALPHABET.charAt(triple >> 18) + ALPHABET.charAt((triple >> 12) & 63);
    out += i + 1 < length ? ALPHABET.charAt((triple >> 6) & 63) : "=";
    out += i + 2 < length ? ALPHABET.charAt(triple & 63) : "=";
  }
  return out;
}

/** Decodes base64 (ASCII whitespace ignored) into a binary string. */
export function atob(data: unknown): string {
  if (arguments.length === 0) throw new TypeError("atob: 1 argument required, but only 0 present");
  let input = String(data).replace(/[\t\n\f\r ]/g, "");
  if (input.length % 4 === 0) input = input.replace(/==?$/, "");
  if (input.length % 4 === 1) throw invalid("atob: the string to be decoded is not correctly encoded");
  const table = sextets();
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < input.length; i++) {
    const unit = input.charCodeAt(i);
    const value = unit < 128 ? (table[unit] as number) : -1;
    if (value < 0) throw invalid("atob: the string to be decoded is not correctly encoded");
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((buffer >> bits) & 0xff);
    }
  }
  return out;
}
