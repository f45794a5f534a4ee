/**
 * Sign, verify, encrypt and decrypt of more than INLINE_INPUT_BYTES, on a
 * worker thread. Node's webcrypto runs the cipher on the libuv pool but
 * first copies its input on the calling thread: measured on Node 20 here,
 * ~0.15 ms per MiB warm (0.6 ms cold), 33 ms for 64 MiB; posting the same
 * 64 MiB to a worker with the buffer transferred takes ~0.05 ms. One thread
 * serves the process, started on first use, unref'd, and ended after
 * IDLE_EXIT_MS without work (a thread that was handed CryptoKeys otherwise
 * keeps a process from exiting by itself, as a test runner's worker must).
 */
import { Worker } from "node:worker_threads";
import type { webcrypto } from "node:crypto";
import type { CryptoJobMessage, CryptoJobResult } from "./crypto-worker.js";
import { nodeFailure } from "./node-failure.js";
import { failure, type CryptoFailure } from "./params.js";

/** An idle thread is ended after this long; the next large input starts one again. */
const IDLE_EXIT_MS = 2000;

/** Inputs up to this many bytes are handed to Node's webcrypto on the event loop. */
export const INLINE_INPUT_BYTES = 1024 * 1024;

interface Waiting {
  resolve(result: ArrayBuffer | boolean | CryptoFailure): void;
}

/** The process's thread for large crypto inputs. */
export class LargeInputThread {
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #lastId = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  /**
   * Run `operation` on the worker; `data` (and `signature`) are transferred.
   * Resolves with the result or a failure, never rejects.
   */
  run(
    operation: CryptoJobMessage["operation"],
    algorithm: Record<string, unknown>,
    key: webcrypto.CryptoKey,
    data: ArrayBuffer,
    signature: ArrayBuffer | null,
  ): Promise<ArrayBuffer | boolean | CryptoFailure> {
    let worker: Worker;
    try {
      worker = this.#worker ?? this.#start();
    } catch (error) {
      return Promise.resolve(nodeFailure(error));
    }
    const id = ++this.#lastId;
    clearTimeout(this.#idleTimer);
    return new Promise((resolve) => {
      this.#waiting.set(id, { resolve });
      const job: CryptoJobMessage = { id, operation, algorithm, key, data, signature };
      try {
        worker.postMessage(job, signature === null ? [data] : [data, signature]);
      } catch (error) {
        this.#waiting.delete(id);
        resolve(nodeFailure(error));
      }
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL("./crypto-worker.js", import.meta.url), {
      // Inputs are transferred ArrayBuffers (external memory); the thread's own heap stays small.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    worker.unref();
    worker.on("message", (answer: CryptoJobResult) => {
      const waiting = this.#waiting.get(answer.id);
      if (waiting === undefined) return;
      this.#waiting.delete(answer.id);
      if (this.#waiting.size === 0) this.#scheduleIdleExit(worker);
      if (answer.errorName === "") {
        waiting.resolve(answer.result ?? failure("OperationError", "The operation failed"));
        return;
      }
      const error = answer.isTypeError ? new TypeError(answer.errorMessage) : Object.assign(new Error(answer.errorMessage), { name: answer.errorName });
      waiting.resolve(nodeFailure(error));
    });
    const fail = (): void => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiting of this.#waiting.values()) waiting.resolve(failure("OperationError", "The operation failed"));
      this.#waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", fail);
    this.#worker = worker;
    return worker;
  }

  #scheduleIdleExit(worker: Worker): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#worker !== worker || this.#waiting.size > 0) return;
      this.#worker = undefined;
      void worker.terminate();
    }, IDLE_EXIT_MS);
    this.#idleTimer.unref();
  }
}
