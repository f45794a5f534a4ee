import type { ResponseWriter } from "./response-writer.js";

/** Outcome of reading a request body. */
export type BodyResult =
  | { readonly kind: "ok"; readonly body: Uint8Array | null }
  | { readonly kind: "too-large" }
  | { readonly kind: "aborted" };

/**
 * Read the request body through uWS `onData`, copying each chunk (uWS
 * neuters it when the callback returns) and stopping at `limitBytes`: a
 * declared Content-Length over the limit is refused before any byte is
 * read, and a chunked body is refused as soon as it crosses the limit, so
 * no more than `limitBytes` is ever buffered. Must be called synchronously
 * inside the uWS handler.
 */
export function readBody(
  writer: ResponseWriter,
  contentLength: number | undefined,
  limitBytes: number,
): Promise<BodyResult> {
  if (contentLength !== undefined && contentLength > limitBytes) {
    return Promise.resolve({ kind: "too-large" });
  }
  return new Promise<BodyResult>((resolve) => {
    // Known length: one exact allocation. Unknown: grow geometrically.
    let buffer = new Uint8Array(contentLength ?? 16 * 1024);
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    writer.onFinish((state) => {
      if (state === "aborted") settle({ kind: "aborted" });
    });
    writer.onData((chunk, isLast) => {
      if (settled) return;
      const incoming = new Uint8Array(chunk);
      if (size + incoming.byteLength > limitBytes) {
        settle({ kind: "too-large" });
        return;
      }
      if (size + incoming.byteLength > buffer.byteLength) {
        const grown = new Uint8Array(Math.min(limitBytes, Math.max(buffer.byteLength * 2, size + incoming.byteLength)));
        grown.set(buffer.subarray(0, size));
        buffer = grown;
      }
      buffer.set(incoming, size);
      size += incoming.byteLength;
      if (isLast) settle({ kind: "ok", body: size === buffer.byteLength ? buffer : buffer.slice(0, size) });
    });
  });
}
