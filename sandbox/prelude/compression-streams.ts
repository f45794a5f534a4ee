/**
 * CompressionStream and DecompressionStream (Compression Standard) for
 * "gzip", "deflate" (zlib) and "deflate-raw", on fflate's synchronous
 * streaming codecs. Loaded by streams.ts on first use of either global.
 *
 * Output is produced only when the readable side pulls, from at most one
 * input slice per pull: a DEFLATE stream inflates at most ~1032 times, so a
 * slice of {@link DECOMPRESS_SLICE_BYTES} yields at most ~8 MB, however
 * large the compressed chunk written. A write resolves once the consumer
 * has pulled all output of its chunk, so an unread stream holds one input
 * chunk and no output: a gzip bomb costs memory only as fast as someone
 * reads it. Both are GenericTransformStream pairs (readable, writable), as
 * the spec defines them, not TransformStream subclasses. Decompression
 * checks the gzip and zlib trailers itself (checked-inflate.ts): fflate's
 * own gzip and zlib decoders do not.
 */
import type * as Fflate from "fflate/browser";
import { isBufferSource, viewBytes } from "./buffer-source.js";
import { CheckedInflate } from "./checked-inflate.js";
import { IntrinsicUint8Array, typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset } from "./intrinsics.js";
import { type ReadableStream, streamClasses, type WritableStream } from "./streams.js";
import { loadLazyModule } from "./streams-lazy-module.js";

/** The formats of the Compression Standard. */
export type CompressionFormat = "gzip" | "deflate" | "deflate-raw";

/** Input bytes inflated per pull (see the module comment). */
export const DECOMPRESS_SLICE_BYTES = 8 * 1024;
/** Input bytes deflated per pull (compression output is never much larger than its input). */
const COMPRESS_SLICE_BYTES = 64 * 1024;

/** One of fflate's streaming codecs: push input, get output through ondata. */
export interface Codec {
  ondata: (data: Uint8Array, final: boolean) => void;
  push(chunk: Uint8Array, final?: boolean): void;
}

/** fflate's codecs, loaded from the host on first use (it also builds its Huffman tables then). */
function fflate(): typeof Fflate {
  return loadLazyModule<typeof Fflate>("fflate");
}

const EMPTY = new IntrinsicUint8Array(0);

function parseFormat(format: unknown, what: string): CompressionFormat {
  const name = String(format);
  if (name !== "gzip" && name !== "deflate" && name !== "deflate-raw") {
    throw new TypeError(`${what}: unsupported compression format "${name}"`);
  }
  return name;
}

function compressor(format: CompressionFormat): Codec {
  const { Deflate, Gzip, Zlib } = fflate();
  if (format === "gzip") return new Gzip() as unknown as Codec;
  if (format === "deflate") return new Zlib() as unknown as Codec;
  return new Deflate() as unknown as Codec;
}

/** fflate's raw inflater inside our own gzip/zlib framing, which checks the trailers (checked-inflate.ts). */
function decompressor(format: CompressionFormat): Codec {
  return new CheckedInflate(format, fflate());
}

/** A view of `length` bytes of `bytes` from `offset` (intrinsic constructor; `subarray` can be patched). */
function slice(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  return new IntrinsicUint8Array(typedArrayBuffer(bytes), typedArrayByteOffset(bytes) + offset, length);
}

function asTypeError(error: unknown, what: string): TypeError {
  if (error instanceof TypeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TypeError(`${what}: ${message}`);
}

/**
 * A readable/writable pair that runs `codec` over what is written, one input
 * slice per pull of the readable side (high-water mark 0: nothing is
 * produced ahead of a read). Codec failures error both sides with a TypeError.
 */
function codecStreams(codec: Codec, sliceBytes: number, what: string): { readable: ReadableStream<Uint8Array>; writable: WritableStream<unknown> } {
  const classes = streamClasses();
  let outputs: Uint8Array[] = [];
  codec.ondata = (data) => {
    if (typedArrayByteLength(data) > 0) outputs.push(data);
  };
  /** The chunk being consumed, and how far. */
  let input: Uint8Array | null = null;
  let offset = 0;
  let closeRequested = false;
  /** Settles the pending write (or close) once its input is consumed. */
  let pendingWrite: { resolve(): void; reject(reason: unknown): void } | null = null;
  /** A pull waiting for input. */
  let wakePull: (() => void) | null = null;
  let failure: { reason: unknown } | null = null;
  /**
   * A codec error that came after it had produced output in the same push
   * (bytes after the end, a bad trailer): the output goes out first and the
   * stream fails at the next pull, as it does in browsers.
   */
  let deferred: TypeError | null = null;
  let readableController!: { enqueue(chunk: Uint8Array): void; close(): void; error(reason: unknown): void };
  let writableController!: { error(reason: unknown): void };

  const settleWrite = (error?: { reason: unknown }): void => {
    const write = pendingWrite;
    pendingWrite = null;
    if (write === null) return;
    if (error === undefined) write.resolve();
    else write.reject(error.reason);
  };
  /** Errors `side` (the other side is already errored, or both are) and settles what waits. */
  const fail = (reason: unknown, side: "readable" | "writable" | "both"): void => {
    if (failure !== null) return;
    failure = { reason };
    if (side !== "readable") writableController.error(reason);
    if (side !== "writable") readableController.error(reason);
    settleWrite(failure);
    wakePull?.();
  };
  const waitForInput = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wakePull = () => {
        wakePull = null;
        resolve();
      };
    });
  const flushOutputs = (): boolean => {
    if (outputs.length === 0) return false;
    const ready = outputs;
    outputs = [];
    for (const chunk of ready) readableController.enqueue(chunk);
    return true;
  };

  /** Push into the codec; false if it failed (the stream is failed, or fails after the output it made). */
  const push = (piece: Uint8Array, final: boolean): boolean => {
    try {
      codec.push(piece, final);
      return true;
    } catch (error) {
      const reason = asTypeError(error, what);
      if (outputs.length > 0) deferred = reason;
      else fail(reason, "both");
      return false;
    }
  };

  const pull = async (): Promise<void> => {
    for (;;) {
      if (failure !== null) return;
      if (deferred !== null) {
        fail(deferred, "both");
        return;
      }
      if (input !== null) {
        const total = typedArrayByteLength(input);
        const length = Math.min(sliceBytes, total - offset);
        const piece = slice(input, offset, length);
        offset += length;
        if (offset >= total) input = null;
        if (!push(piece, false)) {
          flushOutputs();
          return;
        }
        if (input === null && !closeRequested) settleWrite();
        if (flushOutputs()) return;
        continue;
      }
      if (closeRequested) {
        if (!push(EMPTY, true)) {
          flushOutputs();
          return;
        }
        flushOutputs();
        readableController.close();
        settleWrite();
        return;
      }
      await waitForInput();
    }
  };

  const readable = new classes.ReadableStream<Uint8Array>(
    {
      start(controller) {
        readableController = controller;
      },
      pull,
      cancel(reason) {
        fail(reason, "writable");
      },
    },
    { highWaterMark: 0 },
  );
  const writable = new classes.WritableStream<unknown>({
    start(controller) {
      writableController = controller;
    },
    write(chunk) {
      if (!isBufferSource(chunk)) {
        const error = new TypeError(`${what}: chunks must be ArrayBuffer or ArrayBufferView`);
        fail(error, "readable");
        return Promise.reject(error);
      }
      const bytes = viewBytes(chunk);
      if (typedArrayByteLength(bytes) === 0) return Promise.resolve();
      input = bytes;
      offset = 0;
      return new Promise<void>((resolve, reject) => {
        pendingWrite = { resolve, reject };
        wakePull?.();
      });
    },
    close() {
      closeRequested = true;
      return new Promise<void>((resolve, reject) => {
        pendingWrite = { resolve, reject };
        wakePull?.();
      });
    },
    abort(reason) {
      fail(reason, "readable");
    },
  });
  return { readable, writable };
}

/** Compresses the bytes written to `writable` into `readable`. */
export class CompressionStream {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writable: WritableStream<unknown>;

  constructor(format: unknown) {
    const pair = codecStreams(compressor(parseFormat(format, "CompressionStream")), COMPRESS_SLICE_BYTES, "CompressionStream");
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable;
  }

  get writable(): WritableStream<unknown> {
    return this.#writable;
  }

  get [Symbol.toStringTag](): string {
    return "CompressionStream";
  }
}

/** Decompresses the bytes written to `writable` into `readable`; corrupt, truncated or trailing data errors both with a TypeError. */
export class DecompressionStream {
  readonly #readable: ReadableStream<Uint8Array>;
  readonly #writable: WritableStream<unknown>;

  constructor(format: unknown) {
    const pair = codecStreams(decompressor(parseFormat(format, "DecompressionStream")), DECOMPRESS_SLICE_BYTES, "DecompressionStream");
    this.#readable = pair.readable;
    this.#writable = pair.writable;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#readable;
  }

  get writable(): WritableStream<unknown> {
    return this.#writable;
  }

  get [Symbol.toStringTag](): string {
    return "DecompressionStream";
  }
}
