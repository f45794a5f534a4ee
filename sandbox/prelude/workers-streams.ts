/**
 * Workers' own TransformStream subclasses. IdentityTransformStream passes
 * bytes through unchanged; FixedLengthStream does too but knows its total in
 * advance: a response whose body is its readable side goes out with
 * Content-Length instead of chunked (dispatch.ts hands the length to the
 * host, which also cuts a body that ends short or runs long), and writing
 * past the length or closing short errors the readable side (the write or
 * close itself resolves), as in workerd. Both take bytes (a BufferSource);
 * a string goes through as its UTF-8, as workerd's do. The classes extend
 * the lazily loaded TransformStream, so they are made on first use
 * (streams.ts).
 */
import { isBufferSource, viewBytes } from "./buffer-source.js";
import { streamClasses, type ReadableStream, type TransformStream } from "./streams.js";
import { utf8Encode } from "./utf8.js";

/** The byte total of a FixedLengthStream's readable side, by stream. */
const fixedLengths = new WeakMap<object, number>();

/** The announced length of `stream` if it is the readable side of a FixedLengthStream. */
export function fixedLengthOf(stream: ReadableStream): number | undefined {
  return fixedLengths.get(stream);
}

type TransformStreamClass = new (transformer?: object, writableStrategy?: object, readableStrategy?: object) => TransformStream<unknown, Uint8Array>;

interface ByteController {
  enqueue(bytes: Uint8Array): void;
  error(reason: unknown): void;
}

function bytesOf(chunk: unknown, streamName: string): Uint8Array {
  if (typeof chunk === "string") return utf8Encode(chunk);
  if (!isBufferSource(chunk)) throw new TypeError(`This TransformStream is being used as a byte stream, but received a value that is not a string, ArrayBuffer or ArrayBufferView on its writable side (${streamName}).`);
  return viewBytes(chunk);
}

let identityClass: Function | null = null;
let fixedLengthClass: Function | null = null;

/** IdentityTransformStream, made on first use. */
export function identityTransformStreamClass(): Function {
  if (identityClass === null) {
    const Base = streamClasses().TransformStream as unknown as TransformStreamClass;
    identityClass = class IdentityTransformStream extends Base {
      constructor() {
        super({
          transform(chunk: unknown, controller: ByteController) {
            const bytes = bytesOf(chunk, "IdentityTransformStream");
            if (bytes.byteLength > 0) controller.enqueue(bytes);
          },
        });
      }
      get [Symbol.toStringTag](): string {
        return "IdentityTransformStream";
      }
    };
  }
  return identityClass;
}

/** FixedLengthStream, made on first use. */
export function fixedLengthStreamClass(): Function {
  if (fixedLengthClass === null) {
    const Base = streamClasses().TransformStream as unknown as TransformStreamClass;
    fixedLengthClass = class FixedLengthStream extends Base {
      constructor(expectedLength: number | bigint) {
        if (arguments.length === 0) throw new TypeError("FixedLengthStream: 1 argument required, but only 0 present");
        // As workerd's conversion to an unsigned 64-bit length: a fraction is dropped.
        const length = Math.trunc(Number(expectedLength));
        if (!Number.isSafeInteger(length) || length < 0) throw new TypeError("FixedLengthStream requires a non-negative integer expected length no larger than 2^53 - 1");
        let seen = 0;
        super({
          transform(chunk: unknown, controller: ByteController) {
            const bytes = bytesOf(chunk, "FixedLengthStream");
            seen += bytes.byteLength;
            if (seen > length) {
              controller.error(new TypeError("Attempt to write too many bytes through a FixedLengthStream."));
              return;
            }
            if (bytes.byteLength > 0) controller.enqueue(bytes);
          },
          flush(controller: ByteController) {
            if (seen < length) controller.error(new TypeError("FixedLengthStream did not see all expected bytes before close()."));
          },
        });
        fixedLengths.set(this.readable, length);
      }
      get [Symbol.toStringTag](): string {
        return "FixedLengthStream";
      }
    };
  }
  return fixedLengthClass;
}
