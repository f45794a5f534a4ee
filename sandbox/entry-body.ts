import ivm from "isolated-vm";

/** Bodies up to this size are copied into the isolate with the entry's other arguments. */
const COPIED_BODY_MAX_BYTES = 64 * 1024;

/**
 * A body as an entry argument (request bodies, fetched response bodies).
 * Copying arguments happens on the host's event loop (about 0.5 ms per
 * MB); a larger body's memory is moved into the isolate instead
 * (transferOut detaches the host's buffer, and the isolate receives the
 * same backing store), which costs nothing per byte.
 */
export function bodyArgument(buffer: ArrayBuffer): ArrayBuffer | ivm.Copy<ArrayBuffer> {
  if (buffer.byteLength <= COPIED_BODY_MAX_BYTES) return buffer;
  return new ivm.ExternalCopy(buffer, { transferOut: true }).copyInto({ release: true, transferIn: true });
}

/** An ArrayBuffer holding exactly `bytes` (no copy when it already does). */
export function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}
