/**
 * Response bodies too large to cross to the host in one host call. A host
 * call's arguments are copied on the host's event loop (about 0.5 ms per
 * MB), so a body over INLINE_BODY_MAX stays here and the host pulls it a
 * chunk at a time (dispatch "body-pull"), as fast as the client reads: each
 * pull answers with one `bodyChunk` call of at most CHUNK_BYTES bytes or
 * CHUNK_CHARS characters. The host checks every chunk and the total itself.
 * A ReadableStream body is always pulled: each pull reads from the stream
 * (waiting for the app to produce, as Server-Sent Events do), so the client
 * gets each chunk as it is made, and a slow client leaves the stream's
 * queue full, which is the app's backpressure.
 */
import { exactBuffer } from "./buffer-source.js";
import type { BodySource } from "./body.js";
import { host } from "./host.js";
import { stringCharCodeAt, stringSlice, typedArrayByteLength, typedArrayName, uint8Subarray } from "./intrinsics.js";
import { acquireReader, cancelReader, readChunk, type ReadableStream, type ReadableStreamDefaultReader } from "./streams.js";

/** Bodies up to this many bytes (or characters) go inline with `respond`. */
export const INLINE_BODY_MAX = 64 * 1024;
/** Largest bytes chunk per pull (the host refuses more). */
const CHUNK_BYTES = 1024 * 1024;
/** Largest string chunk per pull, in UTF-16 units (at most 3 bytes each in UTF-8). */
const CHUNK_CHARS = 256 * 1024;

interface Outgoing {
  readonly source: BodySource;
  offset: number;
}

/** A stream body: its reader, and what is left of a chunk larger than CHUNK_BYTES. */
interface OutgoingStream {
  readonly reader: ReadableStreamDefaultReader;
  rest: Uint8Array | null;
}

const outgoing = new Map<string, Outgoing>();
const outgoingStreams = new Map<string, OutgoingStream>();

/** Size of `source` in its own units: characters for strings, bytes otherwise. */
function sourceSize(source: BodySource): number {
  return typeof source === "string" ? source.length : typedArrayByteLength(source);
}

/** True if `source` must be pulled by the host rather than sent with `respond`. */
export function isPulledBody(source: BodySource | null): source is BodySource {
  return source !== null && sourceSize(source) > INLINE_BODY_MAX;
}

/**
 * Keep `source` for the host to pull. Returns the byte length the response
 * will have, or -1 when it is not known without encoding (strings).
 */
export function startOutgoing(requestId: string, source: BodySource): number {
  outgoing.set(requestId, { source, offset: 0 });
  return typeof source === "string" ? -1 : typedArrayByteLength(source);
}

/** Keep a stream body for the host to pull (its length is never known in advance). Locks the stream. */
export function startOutgoingStream(requestId: string, stream: ReadableStream): void {
  outgoingStreams.set(requestId, { reader: acquireReader(stream), rest: null });
}

/** Send at most CHUNK_BYTES of `bytes` and keep the rest for the next pull. */
function sendStreamBytes(requestId: string, body: OutgoingStream, bytes: Uint8Array): void {
  const size = typedArrayByteLength(bytes);
  body.rest = size > CHUNK_BYTES ? uint8Subarray(bytes, CHUNK_BYTES, size) : null;
  host.bodyChunk(requestId, exactBuffer(size > CHUNK_BYTES ? uint8Subarray(bytes, 0, CHUNK_BYTES) : bytes), false);
}

function pullStream(requestId: string, body: OutgoingStream): void {
  if (body.rest !== null) {
    sendStreamBytes(requestId, body, body.rest);
    return;
  }
  const fail = (reason: unknown): void => {
    outgoingStreams.delete(requestId);
    void cancelReader(body.reader, reason);
    // null without `done`: the body failed; the host cuts the response.
    host.bodyChunk(requestId, null, false);
  };
  readChunk(body.reader).then(
    (result) => {
      if (outgoingStreams.get(requestId) !== body) return;
      if (result.done) {
        outgoingStreams.delete(requestId);
        host.bodyChunk(requestId, null, true);
        return;
      }
      if (typedArrayName(result.value) !== "Uint8Array") {
        fail(new TypeError("A response body stream chunk must be a Uint8Array"));
        return;
      }
      const bytes = result.value as Uint8Array;
      // An empty chunk carries nothing: read on rather than answer with nothing.
      if (typedArrayByteLength(bytes) === 0) pullStream(requestId, body);
      else sendStreamBytes(requestId, body, bytes);
    },
    (error: unknown) => {
      if (outgoingStreams.get(requestId) === body) fail(error);
    },
  );
}

/** dispatch("body-pull"): send the next chunk of the request's body, or the end. */
export function pullOutgoing(requestId: string): void {
  const stream = outgoingStreams.get(requestId);
  if (stream !== undefined) {
    pullStream(requestId, stream);
    return;
  }
  const body = outgoing.get(requestId);
  if (body === undefined) {
    host.bodyChunk(requestId, null, true);
    return;
  }
  const { source, offset } = body;
  const size = sourceSize(source);
  if (offset >= size) {
    outgoing.delete(requestId);
    host.bodyChunk(requestId, null, true);
    return;
  }
  if (typeof source === "string") {
    let end = Math.min(size, offset + CHUNK_CHARS);
    // Never split a surrogate pair between two chunks: each is encoded alone.
    const last = stringCharCodeAt(source, end - 1);
    if (end < size && last >= 0xd800 && last <= 0xdbff) end--;
    body.offset = end;
    host.bodyChunk(requestId, stringSlice(source, offset, end), false);
    return;
  }
  const end = Math.min(size, offset + CHUNK_BYTES);
  body.offset = end;
  host.bodyChunk(requestId, exactBuffer(uint8Subarray(source, offset, end)), false);
}

/** dispatch("body-cancel"): the client is gone; forget the body. */
export function cancelOutgoing(requestId: string): void {
  outgoing.delete(requestId);
  const stream = outgoingStreams.get(requestId);
  if (stream === undefined) return;
  outgoingStreams.delete(requestId);
  void cancelReader(stream.reader, new TypeError("The client went away"));
}
