/**
 * The HTML Standard's multipart/form-data encoding of a FormData: CRLF line
 * breaks in names and string values, `"`/CR/LF escaped in the
 * Content-Disposition parameters, files with their type (or
 * application/octet-stream), and a random boundary.
 */
import { blobBytes, concatBytes } from "./blob.js";
import { type FormData, formDataEntries } from "./form-data.js";
import { typedArrayByteLength } from "./intrinsics.js";
import { utf8Encode } from "./utf8.js";

/** Captured at load, so that a tenant replacing Math.random later cannot make every boundary the same. */
const random = Math.random;
const HEX = "0123456789abcdef";

/** A fresh boundary: a fixed prefix and 24 random hex digits (96 bits). */
function newBoundary(): string {
  let boundary = "----edgehostFormBoundary";
  for (let i = 0; i < 24; i++) boundary += HEX.charAt(Math.floor(random() * 16));
  return boundary;
}

/** Lone CR, lone LF and CRLF all become CRLF. */
function normaliseLineBreaks(text: string): string {
  return text.replace(/\r\n|\r|\n/g, "\r\n");
}

/** Percent-escapes LF, CR and `"` in a Content-Disposition parameter value. */
function escapeParameter(value: string): string {
  return value.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
}

/** The multipart/form-data body of `form` as bytes, and its content type with the boundary. */
export function encodeMultipart(form: FormData): { body: Uint8Array; contentType: string } {
  const boundary = newBoundary();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const push = (bytes: Uint8Array): void => {
    chunks.push(bytes);
    total += typedArrayByteLength(bytes);
  };
  // Text between file contents is gathered and encoded once per file, not once per line.
  let text = "";
  for (const [name, value] of formDataEntries(form)) {
    const field = escapeParameter(normaliseLineBreaks(name));
    if (typeof value === "string") {
      text += `--${boundary}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${normaliseLineBreaks(value)}\r\n`;
      continue;
    }
    const type = value.type === "" ? "application/octet-stream" : value.type;
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${escapeParameter(value.name)}"\r\nContent-Type: ${type}\r\n\r\n`;
    push(utf8Encode(text));
    push(blobBytes(value));
    text = "\r\n";
  }
  text += `--${boundary}--\r\n`;
  push(utf8Encode(text));
  return { body: concatBytes(chunks, total), contentType: `multipart/form-data; boundary=${boundary}` };
}
