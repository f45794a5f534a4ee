/**
 * The thread behind LargeInputThread (large-input-thread.ts): runs sign,
 * verify, encrypt and decrypt on inputs too big to hand to Node's webcrypto
 * on the event loop (it copies its input on the calling thread). Receives
 * {@link CryptoJobMessage} with the data transferred and the key cloned,
 * answers {@link CryptoJobResult}. Holds no state between messages.
 */
import { webcrypto } from "node:crypto";
import { parentPort } from "node:worker_threads";

/** One job; the algorithm was rebuilt and checked on the main thread. */
export interface CryptoJobMessage {
  readonly id: number;
  readonly operation: "sign" | "verify" | "encrypt" | "decrypt";
  readonly algorithm: Record<string, unknown>;
  readonly key: webcrypto.CryptoKey;
  readonly data: ArrayBuffer;
  /** verify only. */
  readonly signature: ArrayBuffer | null;
}

/** The answer: the result, or the error's name and message. */
export interface CryptoJobResult {
  readonly id: number;
  readonly result: ArrayBuffer | boolean | null;
  readonly errorName: string;
  readonly errorMessage: string;
  readonly isTypeError: boolean;
}

async function run(job: CryptoJobMessage): Promise<ArrayBuffer | boolean> {
  const { subtle } = webcrypto;
  const algorithm = job.algorithm as unknown as webcrypto.Algorithm;
  switch (job.operation) {
    case "sign":
      return subtle.sign(algorithm, job.key, job.data);
    case "verify":
      return subtle.verify(algorithm, job.key, job.signature ?? new ArrayBuffer(0), job.data);
    case "encrypt":
      return subtle.encrypt(algorithm, job.key, job.data);
    case "decrypt":
      return subtle.decrypt(algorithm, job.key, job.data);
  }
}

parentPort?.on("message", (job: CryptoJobMessage) => {
  run(job).then(
    (result) => {
      const answer: CryptoJobResult = { id: job.id, result, errorName: "", errorMessage: "", isTypeError: false };
      parentPort?.postMessage(answer, result instanceof ArrayBuffer ? [result] : []);
    },
    (error: unknown) => {
      const answer: CryptoJobResult = {
        id: job.id,
        result: null,
        errorName: error instanceof Error ? error.name : "OperationError",
        errorMessage: error instanceof Error ? error.message : "",
        isTypeError: error instanceof TypeError,
      };
      parentPort?.postMessage(answer);
    },
  );
});
