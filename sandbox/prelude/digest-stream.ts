/**
 * crypto.DigestStream, workerd's extension: a WritableStream that hashes
 * what is written to it (BufferSources, and strings as UTF-8) and resolves
 * its `digest` promise with the hash once it is closed. workerd hashes
 * incrementally; the prelude's digests are one-shot host calls, so the
 * chunks are kept (copied, in the isolate's own heap, counted by its memory
 * limit) and hashed at close by crypto.subtle.digest, whose size limit
 * (MAX_DIGEST_BYTES) a stream cannot pass either: a write past it errors
 * the stream.
 *
 * The class extends the streams' WritableStream, which is itself loaded on
 * first use, so it is made the first time `crypto.DigestStream` is read.
 */
import { byteLengthOf, copyBytes, isBufferSource } from "./buffer-source.js";
import { DOMException } from "./dom-exception.js";
import { IntrinsicUint8Array, typedArraySet } from "./intrinsics.js";
import { MAX_DIGEST_BYTES } from "./protocol.js";
import { streamClasses } from "./streams.js";
import { utf8Encode } from "./utf8.js";

/** The algorithms DigestStream takes, as workerd's: the SHA family and MD5. */
const STREAM_DIGESTS = new Set(["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"]);

type Digest = (algorithm: string, data: ArrayBuffer) => Promise<ArrayBuffer>;

interface DigestState {
  readonly digest: Promise<ArrayBuffer>;
  bytesWritten: bigint;
}

let digestStreamClass: Function | undefined;

/** The algorithm's name as digest() takes it, or the NotSupportedError workerd throws. */
function algorithmName(algorithm: unknown): string {
  const raw = typeof algorithm === "object" && algorithm !== null ? (algorithm as { name?: unknown }).name : algorithm;
  const name = String(raw).toUpperCase();
  if (!STREAM_DIGESTS.has(name)) throw new DOMException("Unrecognized or unimplemented digest algorithm requested.", "NotSupportedError");
  return name;
}

function chunkBytes(chunk: unknown): Uint8Array {
  if (typeof chunk === "string") return utf8Encode(chunk);
  if (isBufferSource(chunk)) return copyBytes(chunk);
  throw new TypeError("DigestStream: a chunk must be a string, an ArrayBuffer or an ArrayBufferView");
}

function joined(chunks: readonly Uint8Array[], total: number): ArrayBuffer {
  const bytes = new IntrinsicUint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    const size = byteLengthOf(chunk);
    typedArraySet(new IntrinsicUint8Array(bytes.buffer, offset, size), chunk);
    offset += size;
  }
  return bytes.buffer as ArrayBuffer;
}

/** The DigestStream class, made on first use; `digest` is the prelude's own crypto.subtle.digest, captured at load. */
export function digestStream(digest: Digest): Function {
  if (digestStreamClass !== undefined) return digestStreamClass;
  const states = new WeakMap<object, DigestState>();
  const stateOf = (self: unknown): DigestState => {
    const state = typeof self === "object" && self !== null ? states.get(self) : undefined;
    if (state === undefined) throw new TypeError("Illegal invocation");
    return state;
  };
  const Writable = streamClasses().WritableStream;
  class DigestStream extends Writable<unknown> {
    constructor(algorithm: unknown) {
      const name = algorithmName(algorithm);
      const chunks: Uint8Array[] = [];
      let total = 0;
      let settle: { resolve(value: ArrayBuffer): void; reject(reason: unknown): void } | undefined;
      const result = new Promise<ArrayBuffer>((resolve, reject) => {
        settle = { resolve, reject };
      });
      // A digest nobody awaits must not report an unhandled rejection when the stream is aborted.
      result.catch(() => undefined);
      let state: DigestState | undefined;
      super({
        write(chunk: unknown) {
          try {
            const bytes = chunkBytes(chunk);
            const size = byteLengthOf(bytes);
            if (total + size > MAX_DIGEST_BYTES) throw new RangeError(`DigestStream: more than ${MAX_DIGEST_BYTES} bytes written`);
            chunks.push(bytes);
            total += size;
            if (state !== undefined) state.bytesWritten += BigInt(size);
          } catch (error) {
            // The stream errors with it, and so does the digest.
            settle?.reject(error);
            throw error;
          }
        },
        close() {
          return digest(name, joined(chunks, total)).then(
            (hash) => settle?.resolve(hash),
            (error: unknown) => {
              settle?.reject(error);
              throw error;
            },
          );
        },
        abort(reason: unknown) {
          settle?.reject(reason);
        },
      });
      state = { digest: result, bytesWritten: 0n };
      states.set(this, state);
    }

    get digest(): Promise<ArrayBuffer> {
      return stateOf(this).digest;
    }

    get bytesWritten(): bigint {
      return stateOf(this).bytesWritten;
    }

    get [Symbol.toStringTag](): string {
      return "DigestStream";
    }
  }
  digestStreamClass = DigestStream;
  return DigestStream;
}
