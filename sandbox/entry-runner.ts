import type ivm from "isolated-vm";
import type { EntryScheduler, ReleaseSlot } from "./entry-scheduler.js";
import { classifyIsolateFailure } from "./errors.js";
import type { InlineEntryGuard } from "./inline-entry-guard.js";

/** Whoever an entry's CPU time is charged to (a request). */
export interface EntryOwner {
  readonly cpuRemainingMs: number;
  chargeCpuNs(ns: bigint): void;
}

/** The limit an entry broke; the isolate must be disposed. */
export type EntryBreach = "EDGE_SANDBOX_CPU_LIMIT" | "EDGE_SANDBOX_MEMORY_LIMIT" | "EDGE_SANDBOX_CATASTROPHIC";

export interface EntryRunnerOptions<Owner extends EntryOwner> {
  readonly isolate: ivm.Isolate;
  readonly scheduler: EntryScheduler;
  /** Isolates whose entries average under this run them inline; 0 = never. */
  readonly inlineThresholdMs: number;
  readonly inlineEntryGuard?: InlineEntryGuard | undefined;
  /** True once isolated-vm reported a catastrophic error for this isolate. */
  readonly isCatastrophic: () => boolean;
  readonly onBreach: (owner: Owner, code: EntryBreach) => void;
  readonly onInternalError: (error: unknown) => void;
}

type Dispatch = ivm.Reference<(...args: unknown[]) => unknown>;
type DispatchArgs = [string, ...unknown[]];

/** One entry into the isolate, submitted and not yet completed. */
interface Entry<Owner> {
  readonly owner: Owner;
  readonly args: DispatchArgs;
  /** The owner's remaining CPU budget when the entry was submitted, aligned (see alignedTimeoutMs). */
  readonly timeoutMs: number;
  /** Called once when the arguments are no longer needed: copied in, failed or dropped. */
  readonly onDone: (() => void) | undefined;
}

/** How long past its timeout an entry may run before the watchdog declares a breach. */
const WATCHDOG_GRACE_MS = 200;
/** How often the watchdog looks, while entries are pending. */
const WATCHDOG_INTERVAL_MS = 50;
/** Entry timeouts end on this grid (see alignedTimeoutMs). */
const TIMEOUT_GRID_MS = 8;
/** An entry this many times the inline threshold moves its isolate off the main thread at once. */
const LONG_ENTRY_FACTOR = 10;

/**
 * Runs the entries into one isolate (a request, a timer, a fetch result),
 * each bounded by its owner's remaining CPU budget and charged to it.
 *
 * Two ways in. Thread pool: entries are pipelined into isolated-vm, which
 * runs them back to back on the isolate's thread while the main thread goes
 * on; the isolate holds one scheduler slot while any are pending. Inline:
 * for an isolate whose entries are short, the two thread hops cost more
 * than the entry, so it runs on the calling thread (applySync), only when
 * nothing of this isolate is queued (order is kept) and never re-entrantly.
 * An entry that turns out long moves the isolate back to the pool.
 */
export class EntryRunner<Owner extends EntryOwner> {
  readonly #options: EntryRunnerOptions<Owner>;
  #dispatch: Dispatch | undefined;
  /** Thread-pool entries submitted and not yet completed, in submission (= execution) order. */
  readonly #pending: Array<Entry<Owner>> = [];
  /** Entries waiting for start(), or for the pool queue to drain before running inline. */
  #held: Array<Entry<Owner>> = [];
  #slot: Promise<ReleaseSlot> | undefined;
  #cpuAtLastCompletion = 0n;
  /** Recent entry duration; unknown (so: thread pool) until the first entry completes. */
  #recentEntryMs = Number.POSITIVE_INFINITY;
  #inInlineEntry = false;
  #watchdog: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: EntryRunnerOptions<Owner>) {
    this.#options = options;
  }

  /** Boot is over: entries may run. CPU spent so far is start-up's, not the first request's. */
  start(dispatch: Dispatch): void {
    this.#dispatch = dispatch;
    this.#cpuAtLastCompletion = this.#options.isolate.cpuTime;
    this.#flushHeld();
  }

  /**
   * Submit `args` for `owner`. Host calls made during boot run once it is
   * over. `onDone` runs once the entry has run, failed or been dropped, so
   * host memory held by its arguments can be released.
   */
  submit(owner: Owner, args: DispatchArgs, onDone?: () => void): void {
    this.#submit({ owner, args, timeoutMs: alignedTimeoutMs(owner.cpuRemainingMs), onDone });
  }

  /** Run nothing more; pending thread-pool entries fail as the isolate is disposed. */
  stop(): void {
    this.#stopped = true;
    this.#dispatch = undefined;
    const held = this.#held;
    this.#held = [];
    for (const entry of held) entry.onDone?.();
    this.#stopWatchdog();
  }

  #submit(entry: Entry<Owner>): void {
    if (this.#stopped) {
      entry.onDone?.();
      return;
    }
    if (this.#dispatch === undefined) {
      this.#held.push(entry);
      return;
    }
    if (this.#recentEntryMs < this.#options.inlineThresholdMs && !this.#inInlineEntry) {
      if (this.#pending.length === 0) this.#runInline(entry);
      else this.#held.push(entry);
      return;
    }
    this.#pending.push(entry);
    if (this.#slot === undefined) {
      this.#slot = this.#options.scheduler.acquire();
      this.#startWatchdog();
    }
    void this.#slot.then(() => this.#runPooled(entry));
  }

  #runInline(entry: Entry<Owner>): void {
    const dispatch = this.#dispatch as Dispatch;
    const guard = this.#options.inlineEntryGuard;
    this.#inInlineEntry = true;
    guard?.enter(Date.now() + entry.timeoutMs);
    try {
      dispatch.applySync(undefined, entry.args, { arguments: { copy: true }, timeout: entry.timeoutMs });
      this.#charge(entry);
    } catch (error) {
      this.#failed(entry, error);
    } finally {
      guard?.exit();
      this.#inInlineEntry = false;
      entry.onDone?.();
    }
  }

  async #runPooled(entry: Entry<Owner>): Promise<void> {
    try {
      const dispatch = this.#dispatch;
      if (dispatch === undefined) return;
      await dispatch.apply(undefined, entry.args, { arguments: { copy: true }, timeout: entry.timeoutMs });
      this.#charge(entry);
    } catch (error) {
      this.#failed(entry, error);
    } finally {
      entry.onDone?.();
      this.#completePooled(entry);
    }
  }

  #failed(entry: Entry<Owner>, error: unknown): void {
    const code = classifyIsolateFailure(error);
    if (this.#options.isCatastrophic()) this.#options.onBreach(entry.owner, "EDGE_SANDBOX_CATASTROPHIC");
    else if (code === "EDGE_SANDBOX_CPU_LIMIT" || code === "EDGE_SANDBOX_MEMORY_LIMIT") this.#options.onBreach(entry.owner, code);
    else if (code !== "EDGE_SANDBOX_DISPOSED") this.#options.onInternalError(error);
  }

  /**
   * Entries complete in submission order, and the isolate's cpuTime only
   * advances while one runs: the time since the previous completion belongs
   * to this entry. (A pooled next entry may have started a few microseconds
   * before we read the clock; that sliver is charged one entry early.)
   */
  #charge(entry: Entry<Owner>): void {
    if (this.#stopped) return;
    const now = this.#options.isolate.cpuTime;
    const spentNs = now - this.#cpuAtLastCompletion;
    this.#cpuAtLastCompletion = now;
    entry.owner.chargeCpuNs(spentNs);
    const spentMs = Number(spentNs) / 1e6;
    // A clearly long entry sends the isolate to the thread pool at once; an
    // occasional slow one (a GC, a preempted thread) only nudges the average.
    const long = spentMs > this.#options.inlineThresholdMs * LONG_ENTRY_FACTOR;
    this.#recentEntryMs = long || !Number.isFinite(this.#recentEntryMs) ? spentMs : this.#recentEntryMs * 0.8 + spentMs * 0.2;
    if (entry.owner.cpuRemainingMs <= 0) this.#options.onBreach(entry.owner, "EDGE_SANDBOX_CPU_LIMIT");
  }

  #completePooled(entry: Entry<Owner>): void {
    const index = this.#pending.indexOf(entry);
    if (index !== -1) this.#pending.splice(index, 1);
    if (this.#pending.length > 0) return;
    if (this.#slot !== undefined) {
      const slot = this.#slot;
      this.#slot = undefined;
      this.#stopWatchdog();
      void slot.then((release) => release());
    }
    this.#flushHeld();
  }

  #flushHeld(): void {
    const held = this.#held;
    this.#held = [];
    for (const entry of held) this.#submit(entry);
  }

  /**
   * isolated-vm's `timeout` stops a runaway entry; this is the backstop for
   * anything that escapes it. The entry at the head of the queue is the one
   * running: if the isolate's clock has run past its timeout plus a grace
   * period since the last completion, that is a breach.
   */
  #startWatchdog(): void {
    this.#watchdog ??= setInterval(() => {
      const head = this.#pending[0];
      if (head === undefined || this.#stopped) return;
      const runningMs = Number(this.#options.isolate.cpuTime - this.#cpuAtLastCompletion) / 1e6;
      if (runningMs > head.timeoutMs + WATCHDOG_GRACE_MS) this.#options.onBreach(head.owner, "EDGE_SANDBOX_CPU_LIMIT");
    }, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }

  #stopWatchdog(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }
}

/**
 * isolated-vm enforces `timeout` with a timer thread that sleeps until the
 * earliest deadline of every timed call, finished or not, and wakes once per
 * distinct deadline: at tens of thousands of entries a second those wake-ups
 * cost a third of a core (measured: 25-27k -> 33-36k req/s, bench/RESULTS.md).
 * Rounding each deadline up to a grid point makes the deadlines of all
 * entries started in one grid window fall within a millisecond, so the
 * thread wakes a few times per window instead of once per entry. A runaway
 * entry runs at most one grid step past its budget; the exact charge is
 * still made afterwards from the isolate's CPU clock.
 */
export function alignedTimeoutMs(budgetMs: number): number {
  const now = performance.now();
  const deadline = Math.ceil((now + Math.max(1, budgetMs)) / TIMEOUT_GRID_MS) * TIMEOUT_GRID_MS;
  return Math.max(1, Math.ceil(deadline - now));
}
