import type { HostMemoryReservation } from "../sandbox/index.js";
import type { ResponseWriter } from "./response-writer.js";

/** Outcome of reading a request body. */
export type BodyResult =
  | { readonly kind: "ok"; readonly body: Uint8Array | null }
  | { readonly kind: "too-large" }
  /** The app's host-memory account could not take the body's next bytes. */
  | { readonly kind: "no-memory" }
  | { readonly kind: "aborted" };

/**
 * After a body crosses the limit we keep reading (and discarding) up to this
 * much more before answering 413: closing a socket that still has unread
 * data makes the kernel send a reset, which can destroy the 413 before the
 * client reads it ("lingering close", as nginx does it).
 */
export const DRAIN_LIMIT_BYTES = 4 * 1024 * 1024;
/** ...and for at most this long. */
export const DRAIN_LIMIT_MS = 2000;
/** First allocation for a body; it doubles as bytes arrive. */
const INITIAL_BUFFER_BYTES = 16 * 1024;

/**
 * Read the request body through uWS `onData`, copying each chunk (uWS
 * neuters it when the callback returns) and never buffering more than
 * `limitBytes`: a declared Content-Length over the limit is refused without
 * allocating for it, and a chunked body is refused as soon as it crosses the
 * limit. Every byte of buffer is reserved in `memory` (the app's host
 * memory account) before it is allocated; the caller releases the
 * reservation once the body is gone. Must be called synchronously inside
 * the uWS handler.
 */
export function readBody(
  writer: ResponseWriter,
  contentLength: number | undefined,
  limitBytes: number,
  memory: HostMemoryReservation,
): Promise<BodyResult> {
  return new Promise<BodyResult>((resolve) => {
    const declaredTooLarge = contentLength !== undefined && contentLength > limitBytes;
    // Never allocate from the client's word alone: a declared length only
    // caps the growth; the buffer grows with the bytes that actually came.
    const capacityLimit = Math.min(limitBytes, contentLength ?? limitBytes);
    const initialBytes = Math.min(capacityLimit, INITIAL_BUFFER_BYTES);
    let buffer: Uint8Array | null = declaredTooLarge || !memory.grow(initialBytes) ? null : new Uint8Array(initialBytes);
    if (buffer === null && !declaredTooLarge) {
      resolve({ kind: "no-memory" });
      return;
    }
    let size = 0;
    let discarded = 0;
    let settled = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(drainTimer);
      buffer = null;
      resolve(result);
    };
    const startDraining = (): void => {
      buffer = null;
      drainTimer = setTimeout(() => settle({ kind: "too-large" }), DRAIN_LIMIT_MS);
    };
    if (declaredTooLarge) {
      // Too much to drain politely: answer now.
      if ((contentLength) - limitBytes > DRAIN_LIMIT_BYTES) {
        settle({ kind: "too-large" });
        return;
      }
      startDraining();
    }
    writer.onFinish((state) => {
      if (state === "aborted") settle({ kind: "aborted" });
    });
    writer.onData((chunk, isLast) => {
      if (settled) return;
      if (buffer === null) {
        discarded += chunk.byteLength;
        if (isLast || discarded > DRAIN_LIMIT_BYTES) settle({ kind: "too-large" });
        return;
      }
      const incoming = new Uint8Array(chunk);
      if (size + incoming.byteLength > limitBytes) {
        startDraining();
        if (isLast) settle({ kind: "too-large" });
        return;
      }
      if (size + incoming.byteLength > buffer.byteLength) {
        const needed = size + incoming.byteLength;
        const capacity = Math.max(needed, Math.min(capacityLimit, buffer.byteLength * 2));
        if (!memory.grow(capacity - buffer.byteLength)) {
          settle({ kind: "no-memory" });
          return;
        }
        const grown = new Uint8Array(capacity);
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(incoming, size);
      size += incoming.byteLength;
      if (isLast) settle({ kind: "ok", body: size === buffer.byteLength ? buffer : buffer.slice(0, size) });
    });
  });
}
