import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw, type Inflate, type InflateRaw } from "node:zlib";

/**
 * Size of one decoded piece, bytes (zlib's `chunkSize`). Measured with
 * bench/decode-cost.ts (see DECODE_MS_PER_MIB in app-isolate.ts): 64 KiB
 * and 256 KiB pieces cost the event loop the same per MiB within the
 * noise (median 0.6 ms, against 1.2-2.0 ms for undici's fetch decoding in
 * 16 KiB pieces), and 64 KiB ones hold a quarter of the memory per coding
 * and keep the event loop's longest stall shorter.
 */
export const DECODE_CHUNK_BYTES = 64 * 1024;
/** Most codings decoded in one body, as undici's fetch (a longer list fails the fetch). */
export const MAX_CONTENT_CODINGS = 5;

const KNOWN_CODINGS: ReadonlySet<string> = new Set(["x-gzip", "gzip", "deflate", "br"]);

/** What a response's content-encoding asks of the host. */
export type ContentCodings =
  /** Nothing to decode: no header, or a coding the host does not know (the body passes as sent, header included). */
  | { readonly kind: "none" }
  /** Decode with these codings, in the order applied by the sender (decoding runs from the last). */
  | { readonly kind: "decode"; readonly codings: readonly string[] }
  /** More codings than MAX_CONTENT_CODINGS: the fetch fails. */
  | { readonly kind: "too-many"; readonly count: number };

/**
 * Judge a content-encoding value as undici's fetch did before the host
 * took decoding over: every coding of the comma-separated list must be one
 * it knows ("gzip, gzip" is decoded twice; a single unknown one, "identity"
 * and an empty one included, leaves the body as it is); more than
 * MAX_CONTENT_CODINGS fail whatever they are.
 */
export function contentCodings(value: string | undefined): ContentCodings {
  if (value === undefined || value === "") return { kind: "none" };
  const codings = value.toLowerCase().split(",").map((coding) => coding.trim());
  if (codings.length > MAX_CONTENT_CODINGS) return { kind: "too-many", count: codings.length };
  return codings.every((coding) => KNOWN_CODINGS.has(coding)) ? { kind: "decode", codings } : { kind: "none" };
}

/**
 * "deflate" as sent in practice: a zlib stream (RFC 1950) or, from some
 * servers, raw deflate data (RFC 1951), told apart by the first byte as
 * browsers and undici do. Unlike undici's, this one keeps backpressure: the
 * inner stream is paused while this one's reader is full.
 */
class DeflateDecoder extends Transform {
  readonly #chunkBytes: number;
  #inner: Inflate | InflateRaw | undefined;
  #flushed: TransformCallback | undefined;

  constructor(chunkBytes: number) {
    super();
    this.#chunkBytes = chunkBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.byteLength === 0) return callback();
    this.#inner ??= this.#start(chunk);
    this.#inner.write(chunk, (error) => callback(error ?? undefined));
  }

  override _flush(callback: TransformCallback): void {
    if (this.#inner === undefined) return callback();
    this.#flushed = callback;
    this.#inner.end();
  }

  override _read(size: number): void {
    this.#inner?.resume();
    super._read(size);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner?.destroy();
    callback(error);
  }

  #start(first: Buffer): Inflate | InflateRaw {
    const options = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: this.#chunkBytes };
    const inner = ((first[0] as number) & 0x0f) === 0x08 ? createInflate(options) : createInflateRaw(options);
    inner.on("data", (piece: Buffer) => {
      if (!this.push(piece)) inner.pause();
    });
    inner.once("end", () => this.#flushed?.());
    inner.once("error", (error) => this.destroy(error));
    return inner;
  }
}

function decoderFor(coding: string, chunkBytes: number): Transform {
  // Lenient at the end as undici and curl are (Z_SYNC_FLUSH): a body cut
  // short yields what it has instead of failing.
  if (coding === "br") {
    return createBrotliDecompress({ flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH, chunkSize: chunkBytes });
  }
  if (coding === "deflate") return new DeflateDecoder(chunkBytes);
  return createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: chunkBytes });
}

/** Kept on every stage for good: see decodeBody. */
function ignoreError(): void {}

/** Options of {@link decodeBody}. */
export interface DecodeBodyOptions {
  /** Decoded piece size, bytes. Default DECODE_CHUNK_BYTES. */
  readonly chunkBytes?: number;
  /** The decoders are done (ended, failed, or cancelled: then before cancel returns): called once. */
  readonly onClose?: () => void;
}

/**
 * The decoded body of `source`, content-encoded with `codings` (as
 * contentCodings returned them). zlib and brotli run on the libuv pool, in
 * pieces of `chunkBytes`; the event loop only passes the pieces on. The
 * result is read-driven (high-water mark 0): a piece is decoded only when
 * the reader asks for one, plus at most about two pieces ahead per coding
 * in the decoders' own buffers (Node's zlib stops while its output is not
 * taken), so a bomb decodes only as fast as its reader reads. Cancelling
 * the result destroys the decoders and cancels `source`. A decoder error
 * (corrupt data) errors the result with zlib's error.
 */
export function decodeBody(source: ReadableStream<Uint8Array>, codings: readonly string[], options: DecodeBodyOptions = {}): ReadableStream<Uint8Array> {
  const chunkBytes = options.chunkBytes ?? DECODE_CHUNK_BYTES;
  const decoders = [...codings].reverse().map((coding) => decoderFor(coding, chunkBytes));
  const input = Readable.fromWeb(source);
  const output = decoders[decoders.length - 1];
  if (output === undefined) throw new RangeError("decodeBody: no codings");
  let isClosed = false;
  const close = (): void => {
    if (isClosed) return;
    isClosed = true;
    options.onClose?.();
  };
  // The pipeline destroys every stage, the source's reader included, when one fails or the output is destroyed.
  pipeline([input, ...decoders], close);
  // Errors reach the reader through the output's iterator. A stage destroyed
  // after the pipeline has settled (a cancel once its callback ran) would
  // otherwise emit an 'error' nobody listens to, which kills the process.
  for (const stage of [input, ...decoders]) stage.on("error", ignoreError);
  const pieces = output[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pieces.next();
        if (next.done === true) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      },
      cancel() {
        // No error: the reader is gone, nobody is left to be told why.
        output.destroy();
        // Destroyed now: the owner need not wait for the pipeline's callback.
        close();
      },
    },
    { highWaterMark: 0 },
  );
}
