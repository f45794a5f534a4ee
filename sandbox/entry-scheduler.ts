import { availableParallelism } from "node:os";

/** Gives a slot back; call exactly once. */
export type ReleaseSlot = () => void;

/**
 * Caps how many isolates execute at once across the process. An isolate
 * holds one slot while it has entries queued or running (its entries are
 * pipelined into isolated-vm inside that slot) and gives it back when its
 * queue drains. isolated-vm would otherwise run one thread per busy isolate
 * without bound, and since its `cpuTime` counts wall time while running,
 * oversubscribed threads would also be charged for time spent descheduled.
 * FIFO, so no isolate can starve another by re-queueing quickly.
 */
export class EntryScheduler {
  readonly maxRunning: number;
  #running = 0;
  readonly #waiting: Array<(release: ReleaseSlot) => void> = [];

  /** @param maxRunning isolates allowed to execute at once; default: the core count. */
  constructor(maxRunning: number = availableParallelism()) {
    this.maxRunning = Math.max(1, maxRunning);
  }

  /** Slots in use. */
  get running(): number {
    return this.#running;
  }

  /** Isolates waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Resolve with a release function once a slot is free. */
  acquire(): Promise<ReleaseSlot> {
    if (this.#running < this.maxRunning) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter, so the count never dips
      // and a newcomer cannot overtake the queue.
      if (next) next(this.#releaser());
      else this.#running--;
    };
  }

  /** Run `task` while holding a slot. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}
