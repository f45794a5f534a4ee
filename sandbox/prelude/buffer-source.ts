/** Helpers for WebIDL BufferSource arguments (ArrayBuffer or any ArrayBufferView). */

/** An ArrayBuffer or a view on one, as Web APIs accept them. */
export type BufferSource = ArrayBuffer | ArrayBufferView;

/** True for an ArrayBuffer or any typed array / DataView. */
export function isBufferSource(value: unknown): value is BufferSource {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** A Uint8Array over the same memory as `source` (no copy). */
export function viewBytes(source: BufferSource): Uint8Array {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

/** A fresh copy of the bytes of `source`. */
export function copyBytes(source: BufferSource): Uint8Array {
  return viewBytes(source).slice();
}

/**
 * An ArrayBuffer holding exactly `bytes`, for handing to the host: the view's
 * own buffer when it covers all of it, else a copy.
 */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = bytes.buffer as ArrayBuffer;
  if (bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  return buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}
