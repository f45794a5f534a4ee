import type { FileHandle } from "node:fs/promises";
import type { SandboxBodyStream } from "../../sandbox/index.js";
import { RuntimeError } from "../errors.js";

/**
 * Bytes per read. Each read is one libuv pool job, so the event loop never
 * waits on the disk, and a response holds one chunk at a time whatever the
 * file's size.
 */
export const FILE_CHUNK_BYTES = 64 * 1024;

/**
 * A byte range of an open file, read chunk by chunk as the receiver asks.
 * It has the writer's pulled-body shape (`length`, `pull`, `cancel`), so
 * ResponseWriter sends it with Content-Length at the client's pace (the
 * next read starts only once uWS took the last chunk), and is also an
 * async iterable for other consumers.
 *
 * It owns the file handle: the handle is closed once the last byte is
 * read, on `cancel()`, or when a read fails. A receiver must do one of
 * those; dropping a FileBody unread leaves the descriptor open until GC.
 */
export class FileBody implements SandboxBodyStream, AsyncIterable<Uint8Array> {
  /** Bytes in the range. */
  readonly length: number;
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte plus one. */
  readonly end: number;
  #file: FileHandle | undefined;
  #position: number;
  #reading = false;

  /** Take ownership of `file` to read bytes `start` (inclusive) to `end` (exclusive). */
  constructor(file: FileHandle, start: number, end: number) {
    this.#file = file;
    this.start = start;
    this.end = end;
    this.length = end - start;
    this.#position = start;
  }

  /**
   * The next chunk (at most FILE_CHUNK_BYTES), or null after the last.
   * Rejects with RuntimeError `EDGE_RUNTIME_ASSET_READ_FAILED` when the
   * file ends early (it shrank since it was opened), a read fails, or the
   * body was cancelled. One pull at a time.
   */
  async pull(): Promise<Uint8Array | null> {
    if (this.#position >= this.end) {
      this.#close();
      return null;
    }
    const file = this.#file;
    if (file === undefined) throw new RuntimeError("EDGE_RUNTIME_ASSET_READ_FAILED", "asset body was cancelled");
    if (this.#reading) throw new RuntimeError("EDGE_RUNTIME_ASSET_READ_FAILED", "asset body pulled twice at once");
    this.#reading = true;
    const size = Math.min(FILE_CHUNK_BYTES, this.end - this.#position);
    // A fresh buffer per chunk: uWS may keep a chunk it could not send yet.
    const buffer = Buffer.allocUnsafe(size);
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.read(buffer, 0, size, this.#position));
    } catch (error) {
      this.#reading = false;
      this.#close();
      throw new RuntimeError("EDGE_RUNTIME_ASSET_READ_FAILED", `asset read failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#reading = false;
    if (this.#file === undefined) {
      // Cancelled while the read was running; the close waited for it.
      await file.close().catch(() => undefined);
      throw new RuntimeError("EDGE_RUNTIME_ASSET_READ_FAILED", "asset body was cancelled");
    }
    if (bytesRead === 0) {
      this.#close();
      throw new RuntimeError("EDGE_RUNTIME_ASSET_READ_FAILED", `asset file ended at byte ${this.#position}, before the ${this.end} announced`);
    }
    this.#position += bytesRead;
    // The writer does not pull again after the last byte: close now.
    if (this.#position >= this.end) this.#close();
    return bytesRead === size ? buffer : buffer.subarray(0, bytesRead);
  }

  /** Stop: close the file (after a read in flight, if any). Idempotent. */
  cancel(): void {
    if (this.#reading) this.#file = undefined;
    else this.#close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for (let chunk = await this.pull(); chunk !== null; chunk = await this.pull()) yield chunk;
    } finally {
      this.cancel();
    }
  }

  #close(): void {
    const file = this.#file;
    this.#file = undefined;
    // Nothing to do about a failed close of a read-only descriptor.
    file?.close().catch(() => undefined);
  }
}
