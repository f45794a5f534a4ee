import { SandboxError, type HostMemoryReservation, type RequestBodyStream } from "../sandbox/index.js";
import type { ResponseWriter } from "./response-writer.js";

/** How far the host reads ahead of the app, bytes: past it the socket is paused. */
export const REQUEST_BODY_WINDOW_BYTES = 1024 * 1024;
/** Largest chunk handed to the app per read. */
const MAX_READ_BYTES = 1024 * 1024;

/**
 * A request body fed by uWS `onData` and read by the app as it goes. At
 * most REQUEST_BODY_WINDOW_BYTES wait on the host (reserved in the app's
 * host-memory account); past that the socket is paused until the app reads,
 * so an app that reads slowly or never keeps the upload in the client's
 * socket. The body limit is enforced as bytes arrive. Must be constructed
 * synchronously inside the uWS handler.
 */
export class StreamedRequestBody implements RequestBodyStream {
  readonly #writer: ResponseWriter;
  readonly #limitBytes: number;
  readonly #memory: HostMemoryReservation;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #receivedBytes = 0;
  #ended = false;
  #paused = false;
  /** Set once the body cannot be completed; every later read rejects with it. */
  #failure: SandboxError | undefined;
  /** The app cancelled: further data is read and dropped. */
  #discarding = false;
  #reader: { resolve(chunk: Uint8Array | null): void; reject(error: SandboxError): void } | undefined;

  constructor(writer: ResponseWriter, limitBytes: number, memory: HostMemoryReservation) {
    this.#writer = writer;
    this.#limitBytes = limitBytes;
    this.#memory = memory;
    writer.onFinish((state) => {
      if (state === "aborted") this.#fail(new SandboxError("EDGE_SANDBOX_ABORTED", "the client went away during the request body"));
    });
    writer.onData((chunk, isLast) => this.#onData(chunk, isLast));
  }

  #onData(chunk: ArrayBuffer, isLast: boolean): void {
    if (isLast) this.#ended = true;
    if (this.#discarding || this.#failure !== undefined) return;
    this.#receivedBytes += chunk.byteLength;
    if (this.#receivedBytes > this.#limitBytes) {
      const limit = this.#limitBytes;
      this.#fail(new SandboxError("EDGE_SANDBOX_BODY_TOO_LARGE", `request body exceeds the limit of ${limit} bytes`, { limit }));
      return;
    }
    if (chunk.byteLength > 0) {
      if (!this.#memory.grow(chunk.byteLength)) {
        this.#fail(new SandboxError("EDGE_SANDBOX_MEMORY_LIMIT", "the app's host memory cannot hold more of this request body"));
        return;
      }
      // uWS neuters the chunk when this callback returns: copy it.
      this.#queue.push(new Uint8Array(chunk.slice(0)));
      this.#queuedBytes += chunk.byteLength;
      if (this.#queuedBytes >= REQUEST_BODY_WINDOW_BYTES && !this.#ended) {
        this.#paused = true;
        this.#writer.pauseReading();
      }
    }
    this.#serve();
  }

  read(): Promise<Uint8Array | null> {
    if (this.#reader !== undefined) return Promise.reject(new SandboxError("EDGE_SANDBOX_BAD_RESPONSE", "request body read twice at once"));
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject };
      this.#serve();
    });
  }

  /** Answer a waiting read if there is anything to answer with. */
  #serve(): void {
    const reader = this.#reader;
    if (reader === undefined) return;
    if (this.#queue.length > 0) {
      this.#reader = undefined;
      reader.resolve(this.#take());
      return;
    }
    if (this.#failure !== undefined) {
      this.#reader = undefined;
      reader.reject(this.#failure);
    } else if (this.#ended) {
      this.#reader = undefined;
      this.#memory.releaseAll();
      reader.resolve(null);
    }
  }

  /** Up to MAX_READ_BYTES of the queue as one chunk; resumes the socket once under the window. */
  #take(): Uint8Array {
    let size = 0;
    let count = 0;
    for (const chunk of this.#queue) {
      if (count > 0 && size + chunk.byteLength > MAX_READ_BYTES) break;
      size += chunk.byteLength;
      count++;
    }
    const parts = this.#queue.splice(0, count);
    const out = count === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, size);
    this.#queuedBytes -= size;
    this.#memory.shrink(size);
    if (this.#paused && this.#queuedBytes < REQUEST_BODY_WINDOW_BYTES) {
      this.#paused = false;
      this.#writer.resumeReading();
    }
    return out;
  }

  cancel(): void {
    if (this.#discarding) return;
    this.#discarding = true;
    this.#dropQueue();
  }

  #fail(error: SandboxError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#dropQueue();
    this.#serve();
  }

  #dropQueue(): void {
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#memory.releaseAll();
    if (this.#paused) {
      this.#paused = false;
      this.#writer.resumeReading();
    }
  }
}
