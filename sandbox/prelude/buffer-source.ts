/**
 * Helpers for WebIDL BufferSource arguments (ArrayBuffer or any ArrayBufferView).
 * Tenant code can redefine the typed-array, DataView and ArrayBuffer getters
 * and methods, so sizes and buffers are read through intrinsics.ts and copies
 * are made with the intrinsic `set`: a patched 1-byte view stays 1 byte.
 */
import {
  arrayBufferByteLength,
  IntrinsicUint8Array,
  isArrayBuffer,
  isArrayBufferView,
  typedArrayBuffer,
  typedArrayByteLength,
  typedArrayByteOffset,
  typedArraySet,
  viewParts,
} from "./intrinsics.js";

/** An ArrayBuffer or a view on one, as Web APIs accept them. */
export type BufferSource = ArrayBuffer | ArrayBufferView;

/** True for a real ArrayBuffer or any typed array / DataView (internal-slot checks, not instanceof). */
export function isBufferSource(value: unknown): value is BufferSource {
  return isArrayBufferView(value) || isArrayBuffer(value);
}

/** A Uint8Array over the same memory as `source` (no copy). `source` must pass isBufferSource. */
export function viewBytes(source: BufferSource): Uint8Array {
  if (isArrayBufferView(source)) {
    const { buffer, byteOffset, byteLength } = viewParts(source);
    return new IntrinsicUint8Array(buffer, byteOffset, byteLength);
  }
  return new IntrinsicUint8Array(source, 0, arrayBufferByteLength(source));
}

/** Byte length of `source` (must pass isBufferSource), read from internal slots. */
export function byteLengthOf(source: BufferSource): number {
  return isArrayBufferView(source) ? viewParts(source).byteLength : arrayBufferByteLength(source);
}

/** A fresh copy of the bytes of `source`. */
export function copyBytes(source: BufferSource): Uint8Array {
  return copyOf(viewBytes(source));
}

/** A fresh Uint8Array with the bytes of `bytes`. */
function copyOf(bytes: Uint8Array): Uint8Array {
  const copy = new IntrinsicUint8Array(typedArrayByteLength(bytes));
  typedArraySet(copy, bytes);
  return copy;
}

/**
 * An ArrayBuffer holding exactly `bytes`, for handing to the host: the view's
 * own buffer when it covers all of it, else a copy.
 */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = typedArrayBuffer(bytes);
  const byteLength = typedArrayByteLength(bytes);
  if (typedArrayByteOffset(bytes) === 0 && byteLength === arrayBufferByteLength(buffer)) return buffer;
  return typedArrayBuffer(copyOf(bytes));
}
