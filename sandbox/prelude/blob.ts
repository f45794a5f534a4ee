/**
 * Blob per the File API: immutable bytes and a MIME type. The bytes are held
 * in one Uint8Array that no tenant can reach (readers get copies), so slices
 * share it without copying. `stream()` hands the bytes out in 64 KiB
 * chunks through the prelude's ReadableStream (loaded on first use).
 */
import { copyBytes, isBufferSource } from "./buffer-source.js";
import { IntrinsicUint8Array, typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset, typedArraySet } from "./intrinsics.js";
import type { ReadableStream, StreamModule } from "./streams.js";
import { utf8DecodeWithoutBOM, utf8Encode } from "./utf8.js";

/** What the Blob constructor accepts as one part. */
export type BlobPart = string | ArrayBuffer | ArrayBufferView | Blob;

/** Options of the Blob constructor. */
export interface BlobPropertyBag {
  type?: string;
  endings?: "transparent" | "native";
}

/**
 * The prelude's ReadableStream class, set by globals.ts once every module is
 * loaded (streams.ts reaches blob.ts through structuredClone, so blob.ts
 * cannot import it without a cycle at load).
 */
let readableStreamClass: () => StreamModule["ReadableStream"] = () => {
  throw new TypeError("Blob.stream: streams are not installed");
};

/** Called once by globals.ts. */
export function setReadableStreamClass(get: () => StreamModule["ReadableStream"]): void {
  readableStreamClass = get;
}

/** Chunk size of `stream()`, bytes: large blobs are handed out in pieces, not in one copy. */
const STREAM_CHUNK_BYTES = 64 * 1024;

/** Accessors for File, FormData, bodies and structuredClone; assigned in the static block. */
export let blobBytes: (blob: Blob) => Uint8Array;
/** A Blob over `bytes` (taken, not copied: the caller must not keep them) with an already normalised type. */
export let createBlob: (bytes: Uint8Array, type: string) => Blob;
/** True for real Blobs (and Files), by internal slot rather than prototype. */
export let isBlob: (value: unknown) => value is Blob;

/** The File API's type normalisation: "" if any code unit is outside U+0020..U+007E, else lower case. */
export function normaliseBlobType(type: string): string {
  for (let i = 0; i < type.length; i++) {
    const code = type.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return "";
  }
  return type.toLowerCase();
}

/** "native" line endings on this platform (Linux-like, as Workers): every CRLF or lone CR becomes LF. */
function toNativeEndings(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/** Reads the Blob constructor's options dictionary (WebIDL order: endings, then type). */
export function readBlobOptions(options: unknown): { type: string; endings: "transparent" | "native" } {
  if (options === undefined || options === null) return { type: "", endings: "transparent" };
  if (typeof options !== "object" && typeof options !== "function") throw new TypeError("Blob: options must be an object");
  const bag = options as BlobPropertyBag;
  const endingsValue = bag.endings;
  let endings: "transparent" | "native" = "transparent";
  if (endingsValue !== undefined) {
    const text = String(endingsValue);
    if (text !== "transparent" && text !== "native") throw new TypeError(`Blob: endings must be "transparent" or "native", got "${text}"`);
    endings = text;
  }
  const type = bag.type === undefined ? "" : normaliseBlobType(String(bag.type));
  return { type, endings };
}

/** The bytes of a WebIDL `sequence<BlobPart>`, concatenated (the spec's "process blob parts"). */
export function processBlobParts(parts: unknown, endings: "transparent" | "native"): Uint8Array {
  if (parts === undefined) return new IntrinsicUint8Array(0);
  if ((typeof parts !== "object" && typeof parts !== "function") || parts === null) {
    throw new TypeError("Blob: the parts argument must be a sequence (an iterable object)");
  }
  const iterator = (parts as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof iterator !== "function") throw new TypeError("Blob: the parts argument must be a sequence (an iterable object)");
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const part of parts as Iterable<unknown>) {
    let bytes: Uint8Array;
    if (isBlob(part)) bytes = blobBytes(part);
    else if (isBufferSource(part)) bytes = copyBytes(part);
    else {
      const text = String(part);
      bytes = utf8Encode(endings === "native" ? toNativeEndings(text) : text);
    }
    chunks.push(bytes);
    total += typedArrayByteLength(bytes);
  }
  // One part needs no join: a Blob part's bytes are immutable and shared, the others are fresh.
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  return concatBytes(chunks, total);
}

/** The chunks joined into one fresh array of `total` bytes. */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new IntrinsicUint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    const length = typedArrayByteLength(chunk);
    typedArraySet(new IntrinsicUint8Array(typedArrayBuffer(out), offset, length), chunk);
    offset += length;
  }
  return out;
}

/** A view of bytes `from` to `to` of `bytes`, built from internal slots (a patched `subarray` is not called). */
export function subBytes(bytes: Uint8Array, from: number, to: number): Uint8Array {
  return new IntrinsicUint8Array(typedArrayBuffer(bytes), typedArrayByteOffset(bytes) + from, to - from);
}

/** The spec's clamping of a relative slice index against `size`. */
function relativeIndex(value: unknown, size: number, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Math.trunc(Number(value)) || 0;
  if (number < 0) return Math.max(size + number, 0);
  return Math.min(number, size);
}

/** Marks the internal constructor path (File passes it to super); never reachable by tenants. */
export const BLOB_KEY = Symbol("Blob");

/** Immutable raw data with a MIME type. */
export class Blob {
  #bytes: Uint8Array;
  #type: string;

  static {
    blobBytes = (blob) => blob.#bytes;
    createBlob = (bytes, type) => new Blob(BLOB_KEY as unknown as BlobPart[], { type: "" }, bytes, type);
    isBlob = (value): value is Blob => typeof value === "object" && value !== null && #bytes in value;
  }

  constructor(parts?: Iterable<BlobPart>, options?: BlobPropertyBag);
  /** @internal */
  constructor(parts: Iterable<BlobPart>, options: BlobPropertyBag, bytes: Uint8Array, type: string);
  constructor(parts?: Iterable<BlobPart>, options?: BlobPropertyBag, bytes?: Uint8Array, type?: string) {
    if ((parts as unknown) === BLOB_KEY && bytes !== undefined && type !== undefined) {
      this.#bytes = bytes;
      this.#type = type;
      return;
    }
    const read = readBlobOptions(options);
    this.#bytes = processBlobParts(parts, read.endings);
    this.#type = read.type;
  }

  /** Size in bytes. */
  get size(): number {
    return typedArrayByteLength(this.#bytes);
  }

  /** The normalised MIME type, or "". */
  get type(): string {
    return this.#type;
  }

  /** Bytes `start` to `end` (negative counts from the end) as a new Blob of type `contentType` (default ""). */
  slice(start?: number, end?: number, contentType?: string): Blob {
    const size = this.size;
    const from = relativeIndex(start, size, 0);
    const to = relativeIndex(end, size, size);
    const span = Math.max(to - from, 0);
    const type = contentType === undefined ? "" : normaliseBlobType(String(contentType));
    return createBlob(subBytes(this.#bytes, from, from + span), type);
  }

  async text(): Promise<string> {
    return utf8DecodeWithoutBOM(this.#bytes);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return typedArrayBuffer(copyBytes(this.#bytes));
  }

  async bytes(): Promise<Uint8Array> {
    return copyBytes(this.#bytes);
  }

  /** A ReadableStream of the bytes in chunks of up to 64 KiB (needs the ReadableStream global). */
  stream(): ReadableStream<Uint8Array> {
    // The prelude's own class, not the global (tenant code may have replaced it).
    const Stream = readableStreamClass();
    const bytes = this.#bytes;
    let offset = 0;
    return new Stream<Uint8Array>({
      pull(controller: { enqueue(chunk: Uint8Array): void; close(): void }) {
        const size = typedArrayByteLength(bytes);
        if (offset >= size) {
          controller.close();
          return;
        }
        const end = Math.min(offset + STREAM_CHUNK_BYTES, size);
        controller.enqueue(copyBytes(subBytes(bytes, offset, end)));
        offset = end;
        if (offset >= size) controller.close();
      },
    });
  }

  get [Symbol.toStringTag](): string {
    return "Blob";
  }
}
