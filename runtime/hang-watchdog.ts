import { Worker } from "node:worker_threads";
import type { InlineEntryGuard } from "../sandbox/index.js";

/** How often the watchdog thread looks. */
const CHECK_INTERVAL_MS = 100;

/**
 * Runs in its own thread: if the main thread has been inside one inline
 * isolate entry past that entry's deadline, the process can no longer
 * serve (isolated-vm's own timeout would have ended a merely slow entry
 * long before), so it is killed and the supervisor's standby takes over.
 */
const WATCHDOG_SOURCE = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const deadline = new Float64Array(workerData.shared);
setInterval(() => {
  const due = deadline[0];
  if (due !== 0 && Date.now() > due) {
    writeSync(2, "error: front end stuck in an isolate past its deadline (catastrophic isolate failure); killing it so the standby takes over\\n");
    process.kill(process.pid, "SIGKILL");
  }
}, ${CHECK_INTERVAL_MS});
`;

/**
 * An InlineEntryGuard backed by a watchdog thread. Entering and leaving an
 * entry are two stores into shared memory: nothing on the request path
 * waits for the watchdog.
 */
export class HangWatchdog implements InlineEntryGuard {
  readonly #deadline: Float64Array;
  readonly #worker: Worker;

  /** @param graceMs how far past an entry's own deadline the process is declared stuck. */
  constructor(private readonly graceMs: number) {
    const shared = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
    this.#deadline = new Float64Array(shared);
    this.#worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { shared } });
    this.#worker.unref();
  }

  enter(deadlineMs: number): void {
    this.#deadline[0] = deadlineMs + this.graceMs;
  }

  exit(): void {
    this.#deadline[0] = 0;
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
