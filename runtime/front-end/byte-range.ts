/**
 * What a `Range` header asks of a representation `size` bytes long (RFC
 * 9110 section 14):
 * - `full`: answer 200 with everything. For no header, a unit other than
 *   `bytes`, a malformed range (a server may ignore those), a list of
 *   several ranges (we do not send multipart/byteranges: a full 200 is a
 *   valid answer to any Range request) and an empty file (no byte range of
 *   it exists, yet `bytes=-5` is satisfiable by the spec's letter).
 * - `partial`: answer 206 with bytes `start` to `end`, both inclusive.
 * - `unsatisfiable`: answer 416 with a Content-Range naming only the size.
 */
export type ByteRange =
  | { readonly kind: "full" }
  | { readonly kind: "partial"; readonly start: number; readonly end: number }
  | { readonly kind: "unsatisfiable" };

const FULL: ByteRange = { kind: "full" };
const UNSATISFIABLE: ByteRange = { kind: "unsatisfiable" };
/** `bytes=first-last`, `bytes=first-`, `bytes=-suffix`; the unit is case-insensitive. */
const SINGLE_RANGE = /^bytes=([0-9]*)-([0-9]*)$/i;

/** Interpret `header` (undefined when absent) against `size`. */
export function byteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined || size === 0) return FULL;
  const match = SINGLE_RANGE.exec(header.trim());
  if (match === null) return FULL;
  const [, first = "", last = ""] = match;
  if (first === "") {
    if (last === "") return FULL;
    // Suffix range: the last N bytes, all of them if the file is shorter.
    const suffix = Number(last);
    return suffix === 0 ? UNSATISFIABLE : { kind: "partial", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: "partial", start, end };
}
