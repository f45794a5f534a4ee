/**
 * Digests too big to hash on the event loop (crypto.subtle.digest of more
 * than SYNC_DIGEST_MAX_BYTES), bounded per isolate.
 *
 * Why a worker thread and not Node's own asynchronous APIs (measured on
 * Node 20, 64 MiB input): `crypto.hash` (20.12+) is synchronous on the
 * calling thread; `crypto.subtle.digest` hashes on the libuv pool but first
 * copies its whole input on the calling thread (~35 ms of event loop for
 * 64 MiB here). Transferring the ArrayBuffer to a worker moves it without a
 * copy (postMessage ~0.1 ms), and the hashing runs on that thread.
 * One thread serves the process, started on first use and unref'd.
 */
import { Worker } from "node:worker_threads";
import type { DigestJobMessage, DigestJobResult } from "./digest-worker.js";
import { digestRefusal, MAX_ASYNC_DIGEST_BYTES, nodeHashName, type NodeHashName } from "./host-functions.js";
import type { HostCallRefusal } from "./prelude/protocol.js";

interface Waiting {
  resolve(digest: ArrayBuffer): void;
  reject(error: Error): void;
}

/** The nice value the hashing thread gives itself when it starts (tenant-thread-priority.ts); 0 leaves it alone. */
let digestThreadNice = 0;

/** Set by lowerTenantThreadPriority: a hashing thread started from now on lowers itself to `nice`. */
export function setDigestThreadNice(nice: number): void {
  digestThreadNice = nice;
}

/** The process's hashing thread. */
class DigestThread {
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;

  digest(algorithm: NodeHashName, data: ArrayBuffer): Promise<ArrayBuffer> {
    const worker = this.#worker ?? this.#start();
    const id = ++this.#nextId;
    return new Promise<ArrayBuffer>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      const job: DigestJobMessage = { id, algorithm, data };
      worker.postMessage(job, [data]);
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL("./digest-worker.js", import.meta.url), {
      workerData: { nice: digestThreadNice },
      // Inputs are transferred ArrayBuffers (external memory); the thread's own heap stays tiny.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    worker.on("message", (result: DigestJobResult) => {
      const waiting = this.#waiting.get(result.id);
      if (waiting === undefined) return;
      this.#waiting.delete(result.id);
      if (result.digest instanceof ArrayBuffer) waiting.resolve(result.digest);
      else waiting.reject(new Error("digest worker could not hash the input"));
    });
    const fail = (error: Error): void => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiting of this.#waiting.values()) waiting.reject(error);
      this.#waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`digest worker exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}

let sharedThread: DigestThread | undefined;

/** Bounds for one isolate's digests. */
export interface DigestJobLimits {
  /** Digests on the host at once. */
  readonly maxInFlight: number;
  /** Input bytes held by the host for them at once. */
  readonly maxBytesHeld: number;
}

/** One isolate's asynchronous digests: validated, counted, hashed off the event loop. */
export class DigestJobs {
  readonly #limits: DigestJobLimits;
  #inFlight = 0;
  #bytesHeld = 0;

  constructor(limits: DigestJobLimits) {
    this.#limits = limits;
  }

  /** Digests running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Input bytes held for them now. */
  get bytesHeld(): number {
    return this.#bytesHeld;
  }

  /**
   * Start digesting `data` (untrusted, from an isolate; transferred, so it
   * is detached afterwards). Returns a refusal code at once when the input
   * or the isolate's bounds do not allow it, else the digest's promise,
   * which rejects only if the hashing thread failed.
   */
  start(algorithm: unknown, data: unknown): Promise<ArrayBuffer> | HostCallRefusal {
    const refusal = digestRefusal(algorithm, data, MAX_ASYNC_DIGEST_BYTES);
    if (refusal !== undefined) return refusal;
    const buffer = data as ArrayBuffer;
    const size = buffer.byteLength;
    if (this.#inFlight >= this.#limits.maxInFlight || this.#bytesHeld + size > this.#limits.maxBytesHeld) return "busy";
    this.#inFlight++;
    this.#bytesHeld += size;
    sharedThread ??= new DigestThread();
    const release = (): void => {
      this.#inFlight--;
      this.#bytesHeld -= size;
    };
    return sharedThread.digest(nodeHashName(algorithm) as NodeHashName, buffer).finally(release);
  }
}
