/**
 * DecompressionStream's decoder: fflate's raw DEFLATE inflater with the
 * gzip (RFC 1952) and zlib (RFC 1950) framing parsed and checked here.
 *
 * fflate's streaming Gunzip and Unzlib never look at their trailers (no
 * CRC-32, ISIZE or Adler-32 check), Gunzip reads whatever follows a member
 * as a further member, and all three ignore a short tail after the end. The
 * Compression Standard (and browsers, workerd and Node) make a corrupt,
 * truncated or over-long input a TypeError. So only the raw inflater is
 * used, and around it this module reads the header, sums the output, reads
 * the trailer, and refuses any byte after it, including a second gzip member
 * (as Chrome, Firefox and Node's DecompressionStream do).
 *
 * To find where the DEFLATE data ends, two fields of the inflater's state
 * are read (see RawInflate); scripts/build-prelude.js fails the build if
 * fflate's code no longer has them.
 */
import type * as Fflate from "fflate/browser";
import { adler32, crc32 } from "./checksums.js";
import { IntrinsicUint8Array, typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset } from "./intrinsics.js";

/** The formats DecompressionStream reads. */
export type InflateFormat = "gzip" | "deflate" | "deflate-raw";

/**
 * fflate's Inflate and the parts of its state read here. After each push
 * `p` holds the input not yet consumed and `s.p` the bit offset (0-7) into
 * it; `s.f` is set once the final block's header was read, and `s.l` is null
 * between blocks, so `s.f && !s.l` means the DEFLATE stream has ended (this
 * is how fflate's own Gunzip finds the end of a member).
 */
interface RawInflate {
  ondata: (data: Uint8Array, final: boolean) => void;
  push(chunk: Uint8Array, final?: boolean): void;
  p: Uint8Array;
  s: { f?: number; l?: unknown; p?: number };
}

/** A view of `bytes` from `start` to `end` (intrinsic constructor; `subarray` can be patched). */
function view(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new IntrinsicUint8Array(typedArrayBuffer(bytes), typedArrayByteOffset(bytes) + start, end - start);
}

const EMPTY = new IntrinsicUint8Array(0);

/** gzip header flags (RFC 1952 section 2.3.1). */
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const RESERVED_FLAGS = 0xe0;
/** The optional gzip header fields, in the order they appear. */
const GZIP_FIELDS = [FEXTRA, FNAME, FCOMMENT, FHCRC] as const;
/** #remaining while reading the FEXTRA length's low and high byte. */
const EXTRA_LENGTH_LOW = -1;
const EXTRA_LENGTH_HIGH = -2;

/** Where the decoder is in the format. */
type Phase = "header" | "data" | "trailer" | "done";

/**
 * Pushes of compressed bytes in, decompressed bytes out through `ondata`,
 * as fflate's streaming codecs do. `push` throws an Error naming what is
 * wrong (the stream wrapper makes it a TypeError).
 */
export class CheckedInflate {
  ondata: (data: Uint8Array, final: boolean) => void = () => undefined;
  readonly #format: InflateFormat;
  readonly #inflate: RawInflate;
  #phase: Phase;
  /** gzip header: the index in GZIP_FIELDS of the field being read (-1: the fixed ten bytes), and bytes still to come of it. */
  #field = -1;
  #remaining = 10;
  readonly #fixed = new IntrinsicUint8Array(10);
  #flags = 0;
  /** gzip FEXTRA length bytes, or zlib's two header bytes, as they arrive. */
  #pair = 0;
  #headerCrc = 0;
  readonly #trailer: Uint8Array;
  #trailerLength = 0;
  /** Checksum and size of the output so far. */
  #sum: number;
  #size = 0;

  constructor(format: InflateFormat, fflate: typeof Fflate) {
    this.#format = format;
    this.#inflate = new fflate.Inflate() as unknown as RawInflate;
    this.#inflate.ondata = (data) => this.#output(data);
    this.#phase = format === "deflate-raw" ? "data" : "header";
    this.#remaining = format === "gzip" ? 10 : 2;
    this.#trailer = new IntrinsicUint8Array(format === "gzip" ? 8 : 4);
    this.#sum = format === "deflate" ? 1 : 0;
  }

  push(chunk: Uint8Array, final = false): void {
    const length = typedArrayByteLength(chunk);
    let offset = 0;
    if (this.#phase === "header") offset = this.#format === "gzip" ? this.#gzipHeader(chunk, 0, length) : this.#zlibHeader(chunk, 0, length);
    if (this.#phase === "data" && (offset < length || final)) {
      this.#inflate.push(offset === 0 ? chunk : view(chunk, offset, length), false);
      offset = length;
      if (this.#hasEnded()) this.#afterData();
    }
    if (this.#phase === "trailer" && offset < length) offset = this.#readTrailer(chunk, offset, length);
    if (this.#phase === "done" && offset < length) throw new Error("trailing data after the end of the compressed stream");
    if (final) this.#finish();
  }

  #output(data: Uint8Array): void {
    const size = typedArrayByteLength(data);
    if (size === 0) return;
    if (this.#format === "gzip") this.#sum = crc32(this.#sum, data);
    else if (this.#format === "deflate") this.#sum = adler32(this.#sum, data);
    this.#size += size;
    this.ondata(data, false);
  }

  #hasEnded(): boolean {
    const state = this.#inflate.s;
    return state.f === 1 && !state.l;
  }

  /** The DEFLATE data ended: what the inflater did not consume is the trailer, and after it nothing. */
  #afterData(): void {
    const rest = this.#inflate.p;
    const bitOffset = this.#inflate.s.p ?? 0;
    const start = bitOffset === 0 ? 0 : 1;
    const length = typedArrayByteLength(rest);
    this.#phase = this.#format === "deflate-raw" ? "done" : "trailer";
    if (this.#phase === "trailer" && start < length) {
      const offset = this.#readTrailer(rest, start, length);
      if (offset < length) throw new Error("trailing data after the end of the compressed stream");
    } else if (this.#phase === "done" && start < length) throw new Error("trailing data after the end of the compressed stream");
  }

  #finish(): void {
    if (this.#phase === "data") {
      // A final push with no input left inflates nothing and does not complain: check the end here.
      this.#inflate.push(EMPTY, true);
      if (this.#hasEnded()) this.#afterData();
    }
    if (this.#phase !== "done") throw new Error("unexpected end of the compressed stream (truncated)");
  }

  /** Read the gzip header from `chunk[offset, length)`; returns where it stopped. */
  #gzipHeader(chunk: Uint8Array, offset: number, length: number): number {
    let i = offset;
    // Header bytes of this chunk before `summedTo` are in #headerCrc (for FHCRC; headers are small, so always summed).
    let summedTo = offset;
    const sumTo = (end: number): void => {
      if (end <= summedTo) return;
      this.#headerCrc = crc32(this.#headerCrc, view(chunk, summedTo, end));
      summedTo = end;
    };
    while (i < length && this.#phase === "header") {
      const byte = chunk[i] as number;
      i++;
      const field = GZIP_FIELDS[this.#field];
      if (field === undefined) {
        this.#fixed[10 - this.#remaining] = byte;
        if (--this.#remaining === 0) {
          this.#checkFixedGzipHeader();
          this.#nextGzipField();
        }
      } else if (field === FEXTRA) {
        // Two length bytes (little-endian), then that many bytes.
        if (this.#remaining === EXTRA_LENGTH_LOW) {
          this.#pair = byte;
          this.#remaining = EXTRA_LENGTH_HIGH;
        } else if (this.#remaining === EXTRA_LENGTH_HIGH) {
          this.#remaining = this.#pair | (byte << 8);
          if (this.#remaining === 0) this.#nextGzipField();
        } else if (--this.#remaining === 0) this.#nextGzipField();
      } else if (field === FNAME || field === FCOMMENT) {
        if (byte === 0) this.#nextGzipField();
      } else {
        // FHCRC: the low 16 bits of the CRC-32 of every header byte before these two.
        sumTo(i - 1);
        summedTo = i;
        if (this.#remaining === 2) {
          this.#pair = byte;
          this.#remaining = 1;
        } else {
          if ((this.#pair | (byte << 8)) !== (this.#headerCrc & 0xffff)) throw new Error("incorrect header check");
          this.#phase = "data";
        }
      }
    }
    sumTo(i);
    return i;
  }

  #checkFixedGzipHeader(): void {
    const fixed = this.#fixed;
    if (fixed[0] !== 0x1f || fixed[1] !== 0x8b) throw new Error("incorrect header check");
    if (fixed[2] !== 8) throw new Error("unknown compression method");
    this.#flags = fixed[3] as number;
    if (this.#flags & RESERVED_FLAGS) throw new Error("unknown header flags set");
  }

  /** Move on to the next optional header field the flags announce, or to the data. */
  #nextGzipField(): void {
    for (this.#field++; this.#field < GZIP_FIELDS.length; this.#field++) {
      const field = GZIP_FIELDS[this.#field] as number;
      if (!(this.#flags & field)) continue;
      this.#remaining = field === FEXTRA ? EXTRA_LENGTH_LOW : 2;
      return;
    }
    this.#phase = "data";
  }

  /** Read the two zlib header bytes; returns where it stopped. */
  #zlibHeader(chunk: Uint8Array, offset: number, length: number): number {
    let i = offset;
    while (i < length && this.#phase === "header") {
      const byte = chunk[i] as number;
      i++;
      if (this.#remaining === 2) {
        this.#pair = byte;
        this.#remaining = 1;
        continue;
      }
      const cmf = this.#pair;
      if ((cmf & 0x0f) !== 8) throw new Error("unknown compression method");
      if (cmf >> 4 > 7) throw new Error("invalid window size");
      if (((cmf << 8) | byte) % 31 !== 0) throw new Error("incorrect header check");
      // A preset dictionary cannot be given to DecompressionStream.
      if (byte & 0x20) throw new Error("need dictionary");
      this.#phase = "data";
    }
    return i;
  }

  /** Collect trailer bytes from `chunk[offset, length)`; check them once all are in. Returns where it stopped. */
  #readTrailer(chunk: Uint8Array, offset: number, length: number): number {
    const trailer = this.#trailer;
    const needed = typedArrayByteLength(trailer);
    let i = offset;
    while (i < length && this.#trailerLength < needed) trailer[this.#trailerLength++] = chunk[i++] as number;
    if (this.#trailerLength < needed) return i;
    if (this.#format === "gzip") {
      const crc = ((trailer[0] as number) | ((trailer[1] as number) << 8) | ((trailer[2] as number) << 16) | ((trailer[3] as number) << 24)) >>> 0;
      const isize = ((trailer[4] as number) | ((trailer[5] as number) << 8) | ((trailer[6] as number) << 16) | ((trailer[7] as number) << 24)) >>> 0;
      if (crc !== this.#sum) throw new Error("incorrect data check");
      if (isize !== this.#size % 0x1_0000_0000) throw new Error("incorrect length check");
    } else {
      const adler = (((trailer[0] as number) << 24) | ((trailer[1] as number) << 16) | ((trailer[2] as number) << 8) | (trailer[3] as number)) >>> 0;
      if (adler !== this.#sum) throw new Error("incorrect data check");
    }
    this.#phase = "done";
    return i;
  }
}
