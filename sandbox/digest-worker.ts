/**
 * The hashing thread behind DigestJobs (digest-jobs.ts): receives
 * `{ id, algorithm, data }` with `data` transferred, answers `{ id, digest }`
 * with the digest transferred, or `digest: null` if hashing failed. Holds no
 * state between messages.
 */
import { createHash } from "node:crypto";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";

/** A job as DigestJobs posts it; the algorithm is already validated. */
export interface DigestJobMessage {
  readonly id: number;
  readonly algorithm: string;
  readonly data: ArrayBuffer;
}

/** The answer to one job. */
export interface DigestJobResult {
  readonly id: number;
  readonly digest: ArrayBuffer | null;
}

// Tenant work, below the event loop (tenant-thread-priority.ts): /proc/thread-self names this thread's id.
const nice = (workerData as { nice?: unknown } | null)?.nice;
if (typeof nice === "number" && nice > 0 && process.platform === "linux") {
  try {
    setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), nice);
  } catch {
    // Best effort, as for the pools: the hashing works the same at any priority.
  }
}

parentPort?.on("message", (job: DigestJobMessage) => {
  let digest: ArrayBuffer | null = null;
  try {
    const bytes = createHash(job.algorithm).update(new Uint8Array(job.data)).digest();
    digest = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  } catch {
    // Answered as null; the host reports "internal" to the isolate.
  }
  const result: DigestJobResult = { id: job.id, digest };
  parentPort?.postMessage(result, digest === null ? [] : [digest]);
});
