import { SandboxError } from "./errors.js";

/** The largest chunk the prelude may send per pull: 1 MiB of bytes or 256 Ki characters. */
const MAX_CHUNK_BYTES = 1024 * 1024;
const MAX_CHUNK_CHARS = 256 * 1024;

/**
 * A response body read from the isolate a chunk at a time, as the client
 * takes it. The writer calls `pull()` only when the socket can take more,
 * so the host holds at most one chunk per response and a slow client slows
 * the app's side down instead of filling the host's memory.
 */
export interface SandboxBodyStream {
  /** Total bytes, when the app's body has a known length (bytes bodies); undefined for strings. */
  readonly length: number | undefined;
  /**
   * The next chunk, or null at the end. Rejects with SandboxError when the
   * isolate went away or the app's body broke a rule (oversize, garbage,
   * longer or shorter than announced). One pull at a time.
   */
  pull(): Promise<Uint8Array | null>;
  /** The receiver is gone: stop. Idempotent; pending and later pulls reject with ABORTED. */
  cancel(): void;
}

export interface PulledBodyOptions {
  readonly length: number | undefined;
  /** Largest total, bytes (the response size limit). */
  readonly limitBytes: number;
  /** Ask the isolate for the next chunk (it answers with deliver()). */
  readonly requestChunk: () => void;
  /** Tell the isolate to drop the body. */
  readonly requestCancel: () => void;
  /** The body is over (ended, failed or cancelled): called once. */
  readonly onClose: () => void;
  /** The body cannot be completed (not called for a cancel): the response is cut. */
  readonly onFail: (error: SandboxError) => void;
}

/** The host side of a pulled response body; the isolate's bodyChunk calls go to deliver(). */
export class PulledBody implements SandboxBodyStream {
  readonly length: number | undefined;
  readonly #options: PulledBodyOptions;
  #received = 0;
  #waiting: { resolve(chunk: Uint8Array | null): void; reject(error: SandboxError): void } | undefined;
  #closed: SandboxError | "ended" | undefined;

  constructor(options: PulledBodyOptions) {
    this.length = options.length;
    this.#options = options;
  }

  pull(): Promise<Uint8Array | null> {
    if (this.#closed === "ended") return Promise.resolve(null);
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    if (this.#waiting !== undefined) return Promise.reject(new SandboxError("EDGE_SANDBOX_BAD_RESPONSE", "body pulled twice at once"));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#options.requestChunk();
    });
  }

  /** The isolate's answer to a pull; every argument is untrusted. */
  deliver(chunk: unknown, done: unknown): void {
    const waiting = this.#waiting;
    if (waiting === undefined || this.#closed !== undefined) return;
    this.#waiting = undefined;
    if (done === true && chunk === null) {
      if (this.length !== undefined && this.#received !== this.length) {
        this.#fail(bad(`the body ended after ${this.#received} of its ${this.length} bytes`), waiting);
        return;
      }
      this.#close("ended");
      waiting.resolve(null);
      return;
    }
    if (chunk === null && done === false) {
      // The prelude's word that the app's body failed (its stream errored).
      this.#fail(new SandboxError("EDGE_SANDBOX_APP_EXCEPTION", "the response body stream failed"), waiting);
      return;
    }
    let bytes: Uint8Array;
    if (typeof chunk === "string" && chunk.length > 0 && chunk.length <= MAX_CHUNK_CHARS) bytes = Buffer.from(chunk, "utf8");
    else if (chunk instanceof ArrayBuffer && chunk.byteLength > 0 && chunk.byteLength <= MAX_CHUNK_BYTES) bytes = new Uint8Array(chunk);
    else {
      this.#fail(bad("a body chunk is neither bytes nor a string of an allowed size"), waiting);
      return;
    }
    this.#received += bytes.byteLength;
    if (this.#received > this.#options.limitBytes) {
      const limit = this.#options.limitBytes;
      this.#fail(new SandboxError("EDGE_SANDBOX_RESPONSE_TOO_LARGE", `response body exceeds the limit of ${limit} bytes`, { limit }), waiting);
      return;
    }
    if (this.length !== undefined && this.#received > this.length) {
      this.#fail(bad(`the body is longer than its announced ${this.length} bytes`), waiting);
      return;
    }
    waiting.resolve(bytes);
    if (this.#received === this.length) {
      // All announced bytes are here: the body is over without another round trip.
      this.#close("ended");
      this.#options.requestCancel();
    }
  }

  cancel(): void {
    if (this.#closed !== undefined) return;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    this.#close(new SandboxError("EDGE_SANDBOX_ABORTED", "response body cancelled"));
    this.#options.requestCancel();
    waiting?.reject(new SandboxError("EDGE_SANDBOX_ABORTED", "response body cancelled"));
  }

  /** The isolate is gone (disposed, recycled): the body cannot finish. */
  abort(error: SandboxError): void {
    if (this.#closed !== undefined) return;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    this.#close(error);
    this.#options.onFail(error);
    waiting?.reject(error);
  }

  #fail(error: SandboxError, waiting: { reject(error: SandboxError): void }): void {
    this.#close(error);
    this.#options.onFail(error);
    this.#options.requestCancel();
    waiting.reject(error);
  }

  #close(state: SandboxError | "ended"): void {
    this.#closed = state;
    this.#options.onClose();
  }
}

function bad(message: string): SandboxError {
  return new SandboxError("EDGE_SANDBOX_BAD_RESPONSE", `app returned an invalid response: ${message}`);
}
