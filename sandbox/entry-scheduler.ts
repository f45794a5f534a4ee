import { availableParallelism } from "node:os";

/**
 * Caps how many isolate entries execute at once across all isolates of the
 * process. isolated-vm would otherwise start one thread per runnable task
 * without bound, and since its `cpuTime` counts wall time while running,
 * oversubscribed threads would also be charged for time spent descheduled.
 * FIFO, so no isolate can starve another by re-queueing quickly.
 */
export class EntryScheduler {
  readonly maxRunning: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  /** @param maxRunning entries allowed at once; default: the core count. */
  constructor(maxRunning: number = availableParallelism()) {
    this.maxRunning = Math.max(1, maxRunning);
  }

  /** Entries currently executing. */
  get running(): number {
    return this.#running;
  }

  /** Entries waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Run `task` once a slot is free; the slot is released when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.maxRunning) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, so the count never dips
      // and a newcomer cannot overtake the queue.
      if (next) next();
      else this.#running--;
    }
  }
}
