/**
 * Parses a multipart/form-data body (RFC 7578, as the Fetch Standard's
 * formData() reads it) into a FormData: parts with a filename become Files
 * (type from their Content-Type, "text/plain" without one), the others UTF-8
 * strings. Works on bytes, so files keep binary content. Bounded: at most
 * {@link MAX_MULTIPART_PARTS} parts and {@link MAX_PART_HEADER_BYTES} of
 * headers per part. Malformed input is a TypeError.
 */
import { subBytes } from "./blob.js";
import { createFile } from "./file.js";
import { FormData } from "./form-data.js";
import { IntrinsicUint8Array, typedArrayByteLength } from "./intrinsics.js";
import { utf8DecodeWithoutBOM } from "./utf8.js";

/** Most parts one body may have. */
export const MAX_MULTIPART_PARTS = 10_000;
/** Most bytes of one part's header section (all header lines together). */
export const MAX_PART_HEADER_BYTES = 16 * 1024;
/** RFC 2046: a boundary is 1 to 70 characters. */
const MAX_BOUNDARY_LENGTH = 70;

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

/** Uint8Array.prototype.indexOf as it was at load (tenants may replace the prototype's). */
const byteIndexOf = Function.prototype.call.bind(Uint8Array.prototype.indexOf) as (bytes: Uint8Array, byte: number, from: number) => number;

function malformed(why: string): TypeError {
  return new TypeError(`Failed to parse body as FormData: ${why}`);
}

/** Index of `needle` in `haystack` at or after `from`, starting before `before`; -1 if absent. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number, before: number): number {
  const first = needle[0] as number;
  const last = typedArrayByteLength(haystack) - typedArrayByteLength(needle);
  const end = Math.min(before, last + 1);
  let at = from;
  while (at < end) {
    at = byteIndexOf(haystack, first, at);
    if (at === -1 || at >= end) return -1;
    let i = 1;
    while (i < needle.length && haystack[at + i] === needle[i]) i++;
    if (i === needle.length) return at;
    at++;
  }
  return -1;
}

function asciiBytes(text: string): Uint8Array {
  const bytes = new IntrinsicUint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Undoes the HTML Standard's escaping of names and filenames. */
function unescapeParameter(value: string): string {
  return value.replace(/%0A/gi, "\n").replace(/%0D/gi, "\r").replace(/%22/g, '"');
}

/** The parameters of a Content-Disposition value after its type (quoted values without escapes, as browsers send them). */
function dispositionParameters(value: string): Map<string, string> | null {
  const semicolon = value.indexOf(";");
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  if (type !== "form-data") return null;
  const parameters = new Map<string, string>();
  let at = semicolon === -1 ? value.length : semicolon + 1;
  while (at < value.length) {
    while (at < value.length && (value[at] === " " || value[at] === "\t" || value[at] === ";")) at++;
    const equals = value.indexOf("=", at);
    if (equals === -1) break;
    const key = value.slice(at, equals).trim().toLowerCase();
    at = equals + 1;
    let parameter: string;
    if (value[at] === '"') {
      const close = value.indexOf('"', at + 1);
      if (close === -1) throw malformed("unterminated quoted parameter in Content-Disposition");
      parameter = value.slice(at + 1, close);
      at = close + 1;
    } else {
      const end = value.indexOf(";", at);
      parameter = value.slice(at, end === -1 ? value.length : end).trim();
      at = end === -1 ? value.length : end;
    }
    if (!parameters.has(key)) parameters.set(key, parameter);
  }
  return parameters;
}

interface PartHead {
  name: string;
  filename: string | null;
  contentType: string | null;
}

function parseHead(head: string): PartHead {
  let disposition: Map<string, string> | null = null;
  let contentType: string | null = null;
  for (const line of head.split("\r\n")) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformed("a part header line has no name");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = dispositionParameters(value);
    else if (name === "content-type") contentType = value;
  }
  const name = disposition?.get("name");
  if (disposition === null || name === undefined) throw malformed('a part has no Content-Disposition "form-data" with a name');
  const filename = disposition.get("filename");
  return { name: unescapeParameter(name), filename: filename === undefined ? null : unescapeParameter(filename), contentType };
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** `body` parsed as multipart/form-data with `boundary`. Files share `body`'s memory: the caller gives it up. */
export function parseMultipart(body: Uint8Array, boundary: string): FormData {
  if (boundary.length === 0 || boundary.length > MAX_BOUNDARY_LENGTH || !isAscii(boundary)) throw malformed("invalid boundary");
  const size = typedArrayByteLength(body);
  const delimiter = asciiBytes(`--${boundary}`);
  const nextDelimiter = asciiBytes(`\r\n--${boundary}`);
  const headEnd = asciiBytes("\r\n\r\n");
  let at = indexOfBytes(body, delimiter, 0, 1) === 0 ? 0 : indexOfBytes(body, nextDelimiter, 0, size);
  if (at === -1) throw malformed("the boundary does not occur in the body");
  if (at > 0) at += 2;
  const form = new FormData();
  let parts = 0;
  const lastModified = Date.now();
  for (;;) {
    at += delimiter.length;
    if (body[at] === DASH && body[at + 1] === DASH) return form;
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== CR || body[at + 1] !== LF) throw malformed("a boundary line does not end in CRLF");
    if (++parts > MAX_MULTIPART_PARTS) throw malformed(`more than ${MAX_MULTIPART_PARTS} parts`);
    // From the boundary line's CRLF, so that a part without headers is found too.
    const headerEnd = indexOfBytes(body, headEnd, at, at + MAX_PART_HEADER_BYTES + 3);
    if (headerEnd === -1) {
      throw malformed(indexOfBytes(body, headEnd, at, size) === -1 ? "a part's headers do not end" : `a part's headers are over ${MAX_PART_HEADER_BYTES} bytes`);
    }
    const head = parseHead(headerEnd > at ? utf8DecodeWithoutBOM(subBytes(body, at + 2, headerEnd)) : "");
    const contentStart = headerEnd + 4;
    const contentEnd = indexOfBytes(body, nextDelimiter, contentStart, size);
    if (contentEnd === -1) throw malformed("the closing boundary is missing");
    const content = subBytes(body, contentStart, contentEnd);
    if (head.filename === null) form.append(head.name, utf8DecodeWithoutBOM(content));
    else {
      const type = head.contentType === null ? "text/plain" : isAscii(head.contentType) ? head.contentType : "";
      form.append(head.name, createFile(content, type, head.filename, lastModified));
    }
    at = contentEnd + 2;
  }
}

/** The boundary parameter of a multipart/form-data content type, or null. */
export function multipartBoundary(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return match === null ? null : (match[1] ?? match[2] ?? null);
}
