/**
 * Reading a body stream to its end: the Fetch Standard's "fully read body"
 * for `text()`/`arrayBuffer()`/... of a stream body, and for a stream
 * request body of an outbound `fetch` (read whole before the fetch starts).
 * Response bodies are not collected: the host pulls them (outgoing-body.ts).
 * Reads go through
 * the operations streams.ts captured at load, and chunk types and sizes
 * through intrinsics.ts, so a patched prototype or typed-array getter
 * cannot change what is counted or copied.
 */
import { IntrinsicUint8Array, typedArrayBuffer, typedArrayByteLength, typedArrayName, typedArraySet } from "./intrinsics.js";
import { acquireReader, cancelReader, readChunk, type ReadableStream } from "./streams.js";

/** Why reading stopped before the end: the stream held more than the limit allows. */
export class BodyTooLargeError extends RangeError {
  constructor(limitBytes: number) {
    super(`The body is larger than the limit of ${limitBytes} bytes`);
    this.name = "RangeError";
  }
}

/**
 * Concatenates `chunks` (`byteLength` bytes as counted when each was read)
 * into one fresh Uint8Array. A chunk whose buffer grew since it was counted
 * does not fit its slot: the intrinsic `set` throws a RangeError.
 */
function concat(chunks: Uint8Array[], byteLength: number): Uint8Array {
  const out = new IntrinsicUint8Array(byteLength);
  const buffer = typedArrayBuffer(out);
  let offset = 0;
  for (const chunk of chunks) {
    const length = typedArrayByteLength(chunk);
    if (offset + length > byteLength) throw new RangeError("A body stream chunk grew after it was read");
    typedArraySet(new IntrinsicUint8Array(buffer, offset, length), chunk);
    offset += length;
  }
  return out;
}

/**
 * Reads `stream` to its end and returns its bytes. Rejects with TypeError if
 * the stream is locked or a chunk is not a Uint8Array (as the Fetch Standard
 * says), with the stream's error if it errors, and with BodyTooLargeError
 * (cancelling the stream) once more than `limitBytes` bytes arrived.
 */
export async function readAllBytes(stream: ReadableStream, limitBytes = Infinity): Promise<Uint8Array> {
  const reader = acquireReader(stream);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const result = await readChunk(reader);
    if (result.done) break;
    const chunk = result.value;
    if (typedArrayName(chunk) !== "Uint8Array") {
      const error = new TypeError("A body stream chunk must be a Uint8Array");
      await cancelReader(reader, error);
      throw error;
    }
    const bytes = chunk as Uint8Array;
    total += typedArrayByteLength(bytes);
    if (total > limitBytes) {
      const error = new BodyTooLargeError(limitBytes);
      await cancelReader(reader, error);
      throw error;
    }
    chunks.push(bytes);
  }
  return concat(chunks, total);
}
