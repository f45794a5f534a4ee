import { SandboxError } from "./errors.js";
import type { FetchedBody, FetchedChunk } from "./fetched-body.js";
import type { SandboxBodyStream } from "./pulled-body.js";

export interface DirectFetchedBodyOptions {
  /** Largest total, bytes (the response size limit). */
  readonly limitBytes: number;
  /** The body is over (ended, failed or cancelled): called once. */
  readonly onClose: () => void;
  /** The body cannot be completed (not called for a cancel): the response is cut. */
  readonly onFail: (error: SandboxError) => void;
}

/**
 * A fetched body the app returned untouched as its own response body
 * (`return fetch(url)`, `new Response(upstream.body)`): the response writer
 * pulls it straight from the FetchedBody, so the bytes never enter the
 * isolate, cost it no CPU, and are not copied through it. The window stays
 * the same: a chunk is released (and the host reads further upstream) once
 * the writer asks for the next one, which it does only when the client's
 * socket has taken the last.
 */
export class DirectFetchedBody implements SandboxBodyStream {
  readonly length = undefined;
  readonly #body: FetchedBody;
  readonly #options: DirectFetchedBodyOptions;
  #held: FetchedChunk | undefined;
  #received = 0;
  #ended = false;
  #closed = false;

  constructor(body: FetchedBody, options: DirectFetchedBodyOptions) {
    this.#body = body;
    this.#options = options;
  }

  async pull(): Promise<Uint8Array | null> {
    // The writer has sent the last chunk: its bytes are no longer held.
    this.#releaseHeld();
    if (this.#ended) {
      this.#close();
      return null;
    }
    if (this.#closed) throw new SandboxError("EDGE_SANDBOX_ABORTED", "response body cancelled");
    let chunk: FetchedChunk;
    try {
      chunk = await this.#body.pull();
    } catch (error) {
      const failure = error instanceof SandboxError ? error : new SandboxError("EDGE_SANDBOX_FETCH_FAILED", String(error));
      this.#fail(failure);
      throw failure;
    }
    if (this.#closed) {
      chunk.release();
      throw new SandboxError("EDGE_SANDBOX_ABORTED", "response body cancelled");
    }
    if (chunk.bytes === null) {
      this.#close();
      return null;
    }
    this.#received += chunk.bytes.byteLength;
    if (this.#received > this.#options.limitBytes) {
      chunk.release();
      const limit = this.#options.limitBytes;
      const failure = new SandboxError("EDGE_SANDBOX_RESPONSE_TOO_LARGE", `response body exceeds the limit of ${limit} bytes`, { limit });
      this.#body.cancel();
      this.#fail(failure);
      throw failure;
    }
    this.#held = chunk;
    this.#ended = chunk.done;
    return chunk.bytes;
  }

  /** The client is gone: cancel the upstream. Idempotent. */
  cancel(): void {
    if (this.#closed) return;
    this.#releaseHeld();
    this.#body.cancel();
    this.#close();
  }

  #releaseHeld(): void {
    this.#held?.release();
    this.#held = undefined;
  }

  #fail(error: SandboxError): void {
    if (this.#closed) return;
    this.#options.onFail(error);
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#releaseHeld();
    this.#options.onClose();
  }
}
