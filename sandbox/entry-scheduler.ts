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
 *
 * One app (a key) holds at most `maxPerKey` slots, by default one fewer
 * than there are: an app with several busy isolates (replicas, a version
 * and its canary) must not take every core, because the event loop, which
 * every other app's requests and all I/O go through, needs one too. A
 * waiter whose app is at its cap lets later waiters of other apps pass.
 */
export class EntryScheduler {
  readonly maxRunning: number;
  readonly maxPerKey: number;
  #running = 0;
  readonly #waiting: Array<{ readonly key: string; readonly grant: (release: ReleaseSlot) => void }> = [];
  readonly #heldByKey = new Map<string, number>();

  /**
   * @param maxRunning isolates allowed to execute at once; default: the core count.
   * @param maxPerKey slots one app may hold at once; default: maxRunning - 1 (at least 1).
   */
  constructor(maxRunning: number = availableParallelism(), maxPerKey?: number) {
    this.maxRunning = Math.max(1, maxRunning);
    this.maxPerKey = Math.min(this.maxRunning, Math.max(1, maxPerKey ?? this.maxRunning - 1));
  }

  /** Slots in use. */
  get running(): number {
    return this.#running;
  }

  /** Isolates waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Slots `key` holds now. */
  heldBy(key: string): number {
    return this.#heldByKey.get(key) ?? 0;
  }

  /** Resolve with a release function once a slot is free and `key` (the app) is under its cap. */
  acquire(key = ""): Promise<ReleaseSlot> {
    if (this.#running < this.maxRunning && this.heldBy(key) < this.maxPerKey) {
      this.#running++;
      return Promise.resolve(this.#releaser(key));
    }
    return new Promise((grant) => this.#waiting.push({ key, grant }));
  }

  #releaser(key: string): ReleaseSlot {
    return this.#hold(key, () => {
      const next = this.#takeEligibleWaiter();
      // Hand the slot straight to the first waiter that may have it, so the
      // count never dips and a newcomer cannot overtake the queue.
      if (next === undefined) this.#running--;
      else next.grant(this.#releaser(next.key));
    });
  }

  /** One more against `key`'s cap; the returned release drops it (once) and then runs `afterRelease`. */
  #hold(key: string, afterRelease: () => void): ReleaseSlot {
    this.#heldByKey.set(key, this.heldBy(key) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.heldBy(key) - 1;
      if (held <= 0) this.#heldByKey.delete(key);
      else this.#heldByKey.set(key, held);
      afterRelease();
    };
  }

  /** The first waiter whose key is under its cap, removed from the queue. */
  #takeEligibleWaiter(): { readonly key: string; readonly grant: (release: ReleaseSlot) => void } | undefined {
    const index = this.#waiting.findIndex((waiter) => this.heldBy(waiter.key) < this.maxPerKey);
    return index === -1 ? undefined : this.#waiting.splice(index, 1)[0];
  }

  /**
   * Count one more against `key`'s cap without taking a slot: for a thread
   * the app still keeps busy although its isolate is gone (an entry that
   * `timeout` could not stop). The app cannot start more beside it, while
   * the slot itself goes back, so with one slot in all the others still
   * run (the OS shares the core with the stray thread). Returns its release.
   */
  holdKey(key = ""): ReleaseSlot {
    return this.#hold(key, () => {
      // The key's waiters may run now, in free slots.
      while (this.#running < this.maxRunning) {
        const next = this.#takeEligibleWaiter();
        if (next === undefined) return;
        this.#running++;
        next.grant(this.#releaser(next.key));
      }
    });
  }

  /** Run `task` while holding a slot for `key`. */
  async run<T>(task: () => Promise<T>, key = ""): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await task();
    } finally {
      release();
    }
  }
}
