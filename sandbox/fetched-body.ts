import { SandboxError } from "./errors.js";
import type { HostMemoryReservation } from "./host-memory.js";

/**
 * Most bytes of one subrequest body the host reads ahead of the isolate:
 * bytes buffered plus bytes handed over whose entry has not run yet. Joining
 * buffered chunks into one hand-over copies them, so the account can reach
 * twice this (plus one upstream read) for a moment: 1 MiB per subrequest.
 */
export const FETCH_BODY_WINDOW_BYTES = 512 * 1024;
/**
 * Bodies that have arrived whole within this many bytes by the time the
 * response head is handled go into the isolate with the response, in one
 * piece, as before streaming; larger ones, and ones still arriving, stream.
 */
export const WHOLE_FETCH_BODY_MAX_BYTES = 64 * 1024;

/** One hand-over to the isolate. */
export interface FetchedChunk {
  /** Bytes (never empty, an exact ArrayBuffer's view), or null at the end. */
  readonly bytes: Uint8Array | null;
  /** The body ends with this chunk: no pull follows. */
  readonly done: boolean;
  /** The bytes are in the isolate, or were dropped: give back their host memory. Idempotent. */
  release(): void;
}

export interface FetchedBodyOptions {
  /** The upstream body, decoded by the host if it was content-encoded (content-decoding.ts: on the libuv pool, DECODE_CHUNK_BYTES at a time). */
  readonly source: ReadableStream<Uint8Array>;
  /** Where the bytes the host holds are counted; this body owns it from now on. */
  readonly reservation: HostMemoryReservation;
  /** Largest total, in decoded bytes (the subrequest response limit). */
  readonly limitBytes: number;
  /** The error for a reservation the app's host-memory account refused. */
  readonly overBudget: () => SandboxError;
  /** The error for an upstream read that failed (never throws). */
  readonly translate: (error: unknown) => SandboxError;
  /**
   * Told of every decoded chunk of a content-encoded body (the host's CPU
   * went into it); an error stops the body with it.
   */
  readonly chargeDecoded?: ((bytes: number) => SandboxError | undefined) | undefined;
  /** The upstream sent it content-encoded and these are the decoded bytes (the encoding header no longer describes them). */
  readonly decoded?: boolean;
  /**
   * Asked before every upstream read of a decoded body: how long to wait
   * first, ms (0 = read now). Each read makes the host decode another piece,
   * so this is how the app's host-work rate (host-work.ts) paces decoding;
   * while it waits, the upstream waits in its socket (TCP backpressure).
   */
  readonly readDelayMs?: (() => number) | undefined;
}

interface Waiter {
  resolve(chunk: FetchedChunk): void;
  reject(error: SandboxError): void;
}

const NOTHING = (): void => undefined;

function failed(message: string): SandboxError {
  return new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: ${message}`);
}

/**
 * The response body of one outbound fetch, read from upstream only as far
 * as a small window ahead of the isolate. The isolate pulls; each pull is
 * answered with everything buffered (one entry per window rather than per
 * upstream chunk), and reading ahead resumes once the isolate has
 * taken the bytes. An app that stops reading leaves the rest in the
 * upstream socket (TCP backpressure), so a slow or huge body, a gzip bomb
 * included, holds at most the window of host memory, in the app's account.
 *
 * Failures (an upstream error, the subrequest response limit, the account)
 * cancel the upstream and reject the pending or next pull with a
 * SandboxError; `cancel` does the same for the owner's reasons.
 */
export class FetchedBody {
  readonly #options: FetchedBodyOptions;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #chunks: Uint8Array[] = [];
  #bufferedBytes = 0;
  #handedOverBytes = 0;
  #totalBytes = 0;
  /** Until the first pull, only as much is read as the whole-body fast path needs. */
  #readAheadBytes = WHOLE_FETCH_BODY_MAX_BYTES + 1;
  #reading = false;
  /** A read put off by readDelayMs. */
  #delayedRead: NodeJS.Timeout | undefined;
  #ended = false;
  /** Why the body stopped early (failed or cancelled); set once. */
  #stopped: SandboxError | undefined;
  #waiter: Waiter | undefined;
  #answerQueued = false;
  /** takeWhole() waits: told of every read that settles. */
  #onRead: (() => void) | undefined;

  constructor(options: FetchedBodyOptions) {
    this.#options = options;
    this.#reader = options.source.getReader();
  }

  /** True if these are the decoded bytes of a content-encoded upstream body. */
  get decoded(): boolean {
    return this.#options.decoded === true;
  }

  /** Bytes of this body the host holds now (buffered and handed over). */
  get heldBytes(): number {
    return this.#bufferedBytes + this.#handedOverBytes;
  }

  /**
   * The fast path: the whole body as one exact ArrayBuffer if it has
   * already arrived (the reads that settle before the event loop's next
   * turn, or within `waitMs`, reach its end; no wait once they have) within
   * WHOLE_FETCH_BODY_MAX_BYTES; undefined if it
   * must stream (what was read stays buffered for the first pull). Its
   * bytes stay reserved; the caller releases them once they are in the
   * isolate. Rejects with the body's SandboxError.
   */
  async takeWhole(waitMs = 0): Promise<ArrayBuffer | undefined> {
    await new Promise<void>((resolve) => {
      const settle = (): void => {
        clearImmediate(turn);
        clearTimeout(timer);
        this.#onRead = undefined;
        resolve();
      };
      const turn = waitMs > 0 ? undefined : setImmediate(settle);
      const timer = waitMs > 0 ? setTimeout(settle, waitMs) : undefined;
      // Done early (no wait for the turn) once the answer is known: the end, too much, or a failure.
      this.#onRead = () => {
        if (this.#ended || this.#stopped !== undefined || this.#bufferedBytes > WHOLE_FETCH_BODY_MAX_BYTES) settle();
      };
      this.#pump();
    });
    if (this.#stopped !== undefined) throw this.#stopped;
    if (!this.#ended || this.#bufferedBytes > WHOLE_FETCH_BODY_MAX_BYTES) return undefined;
    const bytes = this.#bufferedBytes === 0 ? new Uint8Array(0) : this.#take(WHOLE_FETCH_BODY_MAX_BYTES);
    if (bytes === undefined) throw this.#stopped ?? this.#options.overBudget();
    // Not handed over through a pull: the caller's release is the reservation's releaseAll.
    this.#handedOverBytes = 0;
    return bytes.buffer as ArrayBuffer;
  }

  /**
   * The next hand-over: everything buffered (at most the window), waiting
   * for upstream if nothing is. One pull at a time.
   */
  pull(): Promise<FetchedChunk> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    if (this.#waiter !== undefined) return Promise.reject(failed("the response body was pulled twice at once"));
    this.#readAheadBytes = FETCH_BODY_WINDOW_BYTES;
    return new Promise<FetchedChunk>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#pump();
      this.#answer();
    });
  }

  /** The isolate or the request is done with the body: cancel the upstream, drop what is held. Idempotent. */
  cancel(): void {
    this.#stop(new SandboxError("EDGE_SANDBOX_ABORTED", "fetch body cancelled"));
  }

  /** Read more from upstream while the window has room. */
  #pump(): void {
    if (this.#reading || this.#delayedRead !== undefined || this.#ended || this.#stopped !== undefined) return;
    if (this.#bufferedBytes + this.#handedOverBytes >= this.#readAheadBytes) return;
    const delayMs = this.#options.readDelayMs?.() ?? 0;
    if (delayMs > 0) {
      this.#delayedRead = setTimeout(() => {
        this.#delayedRead = undefined;
        this.#pump();
      }, delayMs);
      return;
    }
    this.#reading = true;
    this.#reader.read().then(
      (result) => {
        this.#reading = false;
        if (this.#stopped !== undefined) return;
        if (result.done) {
          this.#ended = true;
          this.#answer();
        } else this.#keep(result.value);
        this.#onRead?.();
      },
      (error: unknown) => {
        this.#reading = false;
        if (this.#stopped === undefined) this.#stop(this.#options.translate(error));
        this.#onRead?.();
      },
    );
  }

  #keep(chunk: Uint8Array): void {
    const size = chunk.byteLength;
    this.#totalBytes += size;
    if (this.#totalBytes > this.#options.limitBytes) {
      this.#stop(failed(`response body exceeds ${this.#options.limitBytes} bytes`));
      return;
    }
    const overCharged = this.#options.chargeDecoded?.(size);
    if (overCharged !== undefined) {
      this.#stop(overCharged);
      return;
    }
    if (size > 0) {
      if (!this.#options.reservation.grow(size)) {
        this.#stop(this.#options.overBudget());
        return;
      }
      this.#chunks.push(chunk);
      this.#bufferedBytes += size;
    }
    // The next read first: a pull answered while it is under way waits one turn for it (see #answer).
    this.#pump();
    this.#answer();
  }

  /** Answer the waiting pull if there is something to answer with. */
  #answer(): void {
    if (this.#waiter === undefined || this.#answerQueued) return;
    if (this.#bufferedBytes === 0 && !this.#ended) return;
    if (this.#reading) {
      // A read is under way: give it one turn of the event loop, so bytes
      // (and the end) already on their way go over in the same entry.
      this.#answerQueued = true;
      setImmediate(() => {
        this.#answerQueued = false;
        this.#answerNow();
      });
      return;
    }
    this.#answerNow();
  }

  #answerNow(): void {
    const waiter = this.#waiter;
    if (waiter === undefined || this.#stopped !== undefined) return;
    if (this.#bufferedBytes === 0) {
      if (!this.#ended) return;
      this.#waiter = undefined;
      waiter.resolve({ bytes: null, done: true, release: NOTHING });
      return;
    }
    const bytes = this.#take(FETCH_BODY_WINDOW_BYTES);
    if (bytes === undefined) return;
    this.#waiter = undefined;
    const size = bytes.byteLength;
    let released = false;
    waiter.resolve({
      bytes,
      done: this.#ended && this.#bufferedBytes === 0,
      release: () => {
        if (released) return;
        released = true;
        this.#handedOverBytes -= size;
        this.#options.reservation.shrink(size);
        this.#pump();
      },
    });
    this.#pump();
  }

  /**
   * Take buffered chunks of at most `maxBytes` together (at least one) as
   * one exact buffer, moving their bytes from buffered to handed over.
   * undefined if the join copy did not fit the account (the body is stopped).
   */
  #take(maxBytes: number): Uint8Array | undefined {
    let count = 0;
    let size = 0;
    for (const chunk of this.#chunks) {
      if (count > 0 && size + chunk.byteLength > maxBytes) break;
      size += chunk.byteLength;
      count++;
    }
    const first = this.#chunks[0] as Uint8Array;
    let bytes: Uint8Array;
    if (count === 1 && first.byteOffset === 0 && first.byteLength === first.buffer.byteLength && first.buffer instanceof ArrayBuffer) {
      bytes = first;
    } else {
      // The copy and its sources are both held for a moment.
      if (!this.#options.reservation.grow(size)) {
        this.#stop(this.#options.overBudget());
        return undefined;
      }
      bytes = new Uint8Array(size);
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const chunk = this.#chunks[i] as Uint8Array;
        bytes.set(chunk, offset);
        offset += chunk.byteLength;
      }
      this.#options.reservation.shrink(size);
    }
    this.#chunks.splice(0, count);
    this.#bufferedBytes -= size;
    this.#handedOverBytes += size;
    return bytes;
  }

  /**
   * Stop for good: cancel the upstream (undici then closes its connection)
   * and drop what is buffered. Bytes already handed over stay counted until
   * their release.
   */
  #stop(reason: SandboxError): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    clearTimeout(this.#delayedRead);
    this.#delayedRead = undefined;
    this.#options.reservation.shrink(this.#bufferedBytes);
    this.#chunks.length = 0;
    this.#bufferedBytes = 0;
    if (!this.#ended) this.#reader.cancel(reason).catch(() => undefined);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(reason);
  }
}
