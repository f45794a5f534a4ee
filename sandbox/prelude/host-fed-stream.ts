/**
 * Byte streams whose bytes the host hands over one pull at a time: large
 * request bodies (incoming-body.ts) and the response bodies of outbound
 * fetches (fetched-body.ts). Each pull of the stream is one question to the
 * host (a `pull(key)` host call); the host answers with a dispatch entry
 * that carries a chunk, the end (with or without a last chunk), or an
 * error. The host reads its source only as far as a small window ahead of
 * these pulls, so an app that reads slowly, or never, leaves the rest with
 * the sender instead of in the host's memory.
 */
import type { ReadableByteStreamController } from "web-streams-polyfill";
import { arrayBufferByteLength, IntrinsicUint8Array, isArrayBuffer } from "./intrinsics.js";
import { enterRequest } from "./request-context.js";
import { streamClasses, type ReadableStream } from "./streams.js";

interface PendingPull {
  readonly controller: ReadableByteStreamController;
  /** The request the stream belongs to: code after an awaited read runs as part of it. */
  readonly requestId: string;
  /** Resolves the stream's pull promise. */
  readonly settle: () => void;
  /** The stream is closed or errored: no more pulls, no cancel to send. */
  readonly finish: () => void;
}

/** A host-fed stream and the way to error it from outside (an abort signal). */
export interface HostFedStream {
  readonly stream: ReadableStream<Uint8Array>;
  /** Error the stream with `reason` and tell the host to drop the body; nothing once it is over. */
  error(reason: unknown): void;
}

/** The host-fed streams of one kind, keyed by what the host knows them by. */
export class HostFedStreams<Key> {
  /** Pulls waiting for the host. */
  readonly #waiting = new Map<Key, PendingPull>();
  readonly #pull: (key: Key) => void;
  readonly #cancel: (key: Key) => void;
  readonly #failure: string;

  /**
   * @param pull asks the host for the next chunk of `key`.
   * @param cancel tells the host the stream of `key` is cancelled.
   * @param failure the TypeError message for an error the host gave no words for.
   */
  constructor(pull: (key: Key) => void, cancel: (key: Key) => void, failure: string) {
    this.#pull = pull;
    this.#cancel = cancel;
    this.#failure = failure;
  }

  /** A byte stream of `key` fed by the host, belonging to request `requestId`. */
  open(key: Key, requestId: string): HostFedStream {
    let controller!: ReadableByteStreamController;
    let finished = false;
    const finish = (): void => {
      finished = true;
    };
    const stream = new (streamClasses().ReadableStream)(
      {
        type: "bytes",
        start(c) {
          controller = c;
        },
        pull: () =>
          new Promise<void>((settle) => {
            this.#waiting.set(key, { controller, requestId, settle, finish });
            this.#pull(key);
          }),
        cancel: () => {
          finished = true;
          this.#waiting.delete(key);
          this.#cancel(key);
        },
      },
      // No queue of our own: every pull is one question to the host.
      { highWaterMark: 0 },
    ) as ReadableStream<Uint8Array>;
    return {
      stream,
      error: (reason) => {
        if (finished) return;
        finished = true;
        const pull = this.#waiting.get(key);
        this.#waiting.delete(key);
        controller.error(reason);
        pull?.settle();
        this.#cancel(key);
      },
    };
  }

  /**
   * The host's answer to a pull of `key`: `state` "data" (with `chunk`),
   * "end" (with a last chunk or null) or "error" (with `message`).
   */
  deliver(key: Key, chunk: unknown, state: unknown, message: unknown): void {
    const pull = this.#waiting.get(key);
    if (pull === undefined) return;
    this.#waiting.delete(key);
    enterRequest(pull.requestId);
    const { controller } = pull;
    const bytes = isArrayBuffer(chunk) && arrayBufferByteLength(chunk) > 0 ? new IntrinsicUint8Array(chunk) : null;
    if (state === "data" && bytes !== null) controller.enqueue(bytes);
    else if (state === "end") {
      pull.finish();
      if (bytes !== null) controller.enqueue(bytes);
      controller.close();
    } else {
      pull.finish();
      controller.error(new TypeError(typeof message === "string" && message !== "" ? message : this.#failure));
    }
    pull.settle();
  }
}
