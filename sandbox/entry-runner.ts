import type ivm from "isolated-vm";
import type { EntryScheduler, ReleaseSlot } from "./entry-scheduler.js";
import { classifyIsolateFailure } from "./errors.js";
import { freezeThisThread, isFailpointOn, LATE_COMPLETION_MS } from "./failpoints.js";
import type { InlineEntryGuard } from "./inline-entry-guard.js";

/** Whoever an entry's CPU time is charged to (a request, or the isolate's background budget). */
export interface EntryOwner {
  readonly cpuRemainingMs: number;
  chargeCpuNs(ns: bigint): void;
  /** One of its entries starts running (inline, or handed to isolated-vm's pool). */
  entryStarted?(): void;
  /** That entry is over: charged, or failed (see RequestRecord). */
  entryEnded?(): void;
}

/** The limit an entry broke; the isolate must be disposed. */
export type EntryBreach = "EDGE_SANDBOX_CPU_LIMIT" | "EDGE_SANDBOX_MEMORY_LIMIT" | "EDGE_SANDBOX_CATASTROPHIC";

export interface EntryRunnerOptions<Owner extends EntryOwner> {
  readonly isolate: ivm.Isolate;
  readonly scheduler: EntryScheduler;
  /** Isolates whose entries average under this run them inline; 0 = never. */
  readonly inlineThresholdMs: number;
  readonly inlineEntryGuard?: InlineEntryGuard | undefined;
  /** The app, as the inline entry guard reports it. */
  readonly appKey: string;
  /** Asked before every inline entry: false once the app lost inline entries (InlinePolicy). */
  readonly mayRunInline: () => boolean;
  /** An inline entry ran clearly long (`entryMs`); the app should lose inline entries. */
  readonly onInlineOverrun: (entryMs: number) => void;
  /** True once isolated-vm reported a catastrophic error for this isolate. */
  readonly isCatastrophic: () => boolean;
  /**
   * `owner` broke a limit. `terminated` is true when isolated-vm cut the
   * entry short (its state may be half-updated), false when it finished
   * but took the owner past its budget.
   */
  readonly onBreach: (owner: Owner, code: EntryBreach, terminated: boolean) => void;
  readonly onInternalError: (error: unknown) => void;
  /**
   * Entries that were still running on isolated-vm's thread when the runner
   * was stopped (disposal cannot interrupt some built-ins) kept that thread
   * busy for `heldMs` more: told once they have all settled.
   */
  readonly onHeldAfterStop?: (heldMs: number) => void;
}

type Dispatch = ivm.Reference<(...args: unknown[]) => unknown>;
type DispatchArgs = [string, ...unknown[]];

/** One entry into the isolate, submitted and not yet completed. */
interface Entry<Owner> {
  readonly owner: Owner;
  readonly args: DispatchArgs;
  /** Called once when the arguments are no longer needed: copied in, failed or dropped. */
  readonly onDone: (() => void) | undefined;
}

/** How long past its timeout an entry may run before the watchdog declares a breach. */
const WATCHDOG_GRACE_MS = 200;
/** How often the watchdog looks, while entries are in flight. */
const WATCHDOG_INTERVAL_MS = 50;
/** Entry timeouts end on this grid (see alignedTimeoutMs). */
const TIMEOUT_GRID_MS = 8;
/** An entry this many times the inline threshold counts as long. */
const LONG_ENTRY_FACTOR = 10;
/**
 * Entries of a fast isolate handed to isolated-vm at once. isolated-vm runs
 * them back to back without a thread hop in between, which is most of the
 * pool's throughput; the cap bounds how long a waiting isolate can be kept
 * behind entries that were already handed over.
 */
const MAX_PIPELINE_FAST = 16;
/** ...and of an isolate whose entries are not fast: one at a time, so slots rotate per entry. */
const MAX_PIPELINE_SLOW = 1;
/**
 * The longest an entry still running after its isolate was stopped counts
 * against its app's cap. An uninterruptible built-in on data the memory limit allows
 * runs seconds at most (a sort of 16M doubles, ~2 s).
 */
const MAX_STRAY_THREAD_HOLD_MS = 30_000;

/**
 * Runs the entries into one isolate (a request, a timer, a fetch result),
 * each bounded by its owner's remaining CPU budget and charged to it.
 *
 * Two ways in. Thread pool: the isolate takes a scheduler slot and hands
 * entries to isolated-vm, which runs them on the isolate's thread while the
 * main thread goes on. Slots are shared fairly: while another isolate waits
 * for one, no new entry is handed over; once the entries in flight are done
 * the slot goes back and the isolate queues again behind the waiters, so a
 * tenant that is always busy gets its turn and no more.
 *
 * Inline: for an isolate whose entries are short, the two thread hops cost
 * more than the entry, so it runs on the calling thread (applySync), only
 * when nothing of this isolate is queued or in flight (order is kept) and
 * never re-entrantly. Inline entries are a privilege of apps that are fast
 * (see InlinePolicy): one long inline entry and the app never runs inline
 * again.
 */
export class EntryRunner<Owner extends EntryOwner> {
  readonly #options: EntryRunnerOptions<Owner>;
  #dispatch: Dispatch | undefined;
  /** Entries waiting for start(), a slot, or their turn, in submission order. */
  #queue: Array<Entry<Owner>> = [];
  /** Entries handed to isolated-vm and not yet completed, in execution order. */
  readonly #inFlight: Array<Entry<Owner>> = [];
  #slot: ReleaseSlot | undefined;
  /** After stop(): the app's cap held for an entry still running on its thread (see stop). */
  #strayThreadHold: ReleaseSlot | undefined;
  #acquiring = false;
  #cpuAtLastCompletion = 0n;
  /** Recent entry duration; unknown (so: thread pool) until the first entry completes. */
  #recentEntryMs = Number.POSITIVE_INFINITY;
  #inInlineEntry = false;
  #watchdog: NodeJS.Timeout | undefined;
  #stopped = false;
  /** performance.now() at stop() if entries were still in flight then. */
  #stoppedWithEntriesAt: number | undefined;

  constructor(options: EntryRunnerOptions<Owner>) {
    this.#options = options;
  }

  /** Boot is over: entries may run. CPU spent so far is start-up's, not the first request's. */
  start(dispatch: Dispatch): void {
    this.#dispatch = dispatch;
    this.#cpuAtLastCompletion = this.#options.isolate.cpuTime;
    this.#pump();
  }

  /**
   * Submit `args` for `owner`. Host calls made during boot run once it is
   * over. `onDone` runs once the entry has run, failed or been dropped, so
   * host memory held by its arguments can be released.
   */
  submit(owner: Owner, args: DispatchArgs, onDone?: () => void): void {
    if (this.#stopped) {
      onDone?.();
      return;
    }
    const entry: Entry<Owner> = { owner, args, onDone };
    if (this.#dispatch !== undefined && this.#queue.length === 0 && this.#inFlight.length === 0 && this.#isInlineCandidate()) {
      this.#runInline(entry);
      return;
    }
    this.#queue.push(entry);
    this.#pump();
  }

  /** Run nothing more; entries in flight fail as the isolate is disposed. */
  stop(): void {
    this.#stopped = true;
    this.#dispatch = undefined;
    if (this.#inFlight.length > 0) this.#stoppedWithEntriesAt = performance.now();
    const queued = this.#queue;
    this.#queue = [];
    for (const entry of queued) entry.onDone?.();
    this.#stopWatchdog();
    // An entry still in flight after its isolate is disposed is one that
    // `timeout` could not stop (an uninterruptible built-in): its thread is
    // still busy, so it keeps counting against the app's cap until it is
    // done (EntryScheduler.holdKey); otherwise the app's next isolate would
    // run beside it, on more cores than the cap allows. (Bounded, in case
    // isolated-vm never settles the entry.)
    if (this.#inFlight.length > 0 && this.#slot !== undefined) {
      const release = this.#options.scheduler.holdKey(this.#options.appKey);
      this.#strayThreadHold = release;
      setTimeout(release, MAX_STRAY_THREAD_HOLD_MS).unref();
    }
    this.#releaseSlot();
  }

  /**
   * True when this isolate's entries go to the thread pool for a known
   * reason: inline entries are off, the app lost them, or its recent
   * entries were slow. False while they run inline, and while no entry has
   * been measured yet (a new isolate's first entry goes to the pool only
   * because its duration is unknown). A second isolate only adds a core
   * for apps whose entries run on the pool: inline entries all run on the
   * front end's one thread anyway.
   */
  get runsOnPool(): boolean {
    const threshold = this.#options.inlineThresholdMs;
    if (threshold <= 0 || !this.#options.mayRunInline()) return true;
    return Number.isFinite(this.#recentEntryMs) && this.#recentEntryMs >= threshold;
  }

  #isInlineCandidate(): boolean {
    return !this.#inInlineEntry && this.#recentEntryMs < this.#options.inlineThresholdMs && this.#options.mayRunInline();
  }

  /** Hand queued entries to isolated-vm as far as the slot and fairness allow. */
  #pump(): void {
    if (this.#stopped || this.#dispatch === undefined) return;
    while (this.#queue.length > 0 && this.#inFlight.length === 0 && this.#isInlineCandidate()) {
      this.#runInline(this.#queue.shift() as Entry<Owner>);
      if (this.#stopped) return;
    }
    if (this.#queue.length === 0) {
      if (this.#inFlight.length === 0) this.#releaseSlot();
      return;
    }
    if (this.#slot === undefined) {
      this.#acquireSlot();
      return;
    }
    const depth = this.#recentEntryMs < this.#options.inlineThresholdMs ? MAX_PIPELINE_FAST : MAX_PIPELINE_SLOW;
    while (this.#queue.length > 0 && this.#inFlight.length < depth) {
      // Someone is waiting for a slot: finish what was handed over, then queue again.
      if (this.#inFlight.length > 0 && this.#options.scheduler.queued > 0) return;
      const entry = this.#queue.shift() as Entry<Owner>;
      this.#inFlight.push(entry);
      void this.#runPooled(entry);
    }
  }

  #acquireSlot(): void {
    if (this.#acquiring) return;
    this.#acquiring = true;
    void this.#options.scheduler.acquire(this.#options.appKey).then((release) => {
      this.#acquiring = false;
      if (this.#stopped) {
        release();
        return;
      }
      this.#slot = release;
      this.#startWatchdog();
      this.#pump();
      if (this.#inFlight.length === 0) this.#releaseSlot();
    });
  }

  #releaseSlot(): void {
    const release = this.#slot;
    this.#slot = undefined;
    this.#stopWatchdog();
    release?.();
  }

  #timeoutFor(entry: Entry<Owner>): number {
    return alignedTimeoutMs(entry.owner.cpuRemainingMs);
  }

  #runInline(entry: Entry<Owner>): void {
    const dispatch = this.#dispatch as Dispatch;
    const guard = this.#options.inlineEntryGuard;
    const timeoutMs = this.#timeoutFor(entry);
    this.#inInlineEntry = true;
    entry.owner.entryStarted?.();
    guard?.enter(Date.now() + timeoutMs, this.#options.appKey);
    try {
      dispatch.applySync(undefined, entry.args, { arguments: { copy: true }, timeout: timeoutMs });
      const spentMs = this.#charge(entry);
      // Past its own timeout: something `timeout` could not interrupt held this thread.
      if (spentMs > timeoutMs) this.#options.onInlineOverrun(spentMs);
    } catch (error) {
      // Failpoint (tests only): an inline memory breach never returns, as V8's fatal OOM on this thread would not.
      if (isFailpointOn("oom-catastrophic") && classifyIsolateFailure(error) === "EDGE_SANDBOX_MEMORY_LIMIT") freezeThisThread();
      this.#failed(entry, error);
    } finally {
      guard?.exit();
      this.#inInlineEntry = false;
      entry.onDone?.();
      entry.owner.entryEnded?.();
    }
  }

  async #runPooled(entry: Entry<Owner>): Promise<void> {
    let started = false;
    try {
      const dispatch = this.#dispatch;
      if (dispatch === undefined) return;
      started = true;
      entry.owner.entryStarted?.();
      await dispatch.apply(undefined, entry.args, { arguments: { copy: true }, timeout: this.#timeoutFor(entry) });
      // Failpoint (tests only): the completion arrives late, after the response this entry sent is out.
      if (isFailpointOn("late-pooled-completion")) await new Promise((resolve) => setTimeout(resolve, LATE_COMPLETION_MS));
      this.#charge(entry);
    } catch (error) {
      this.#failed(entry, error);
    } finally {
      entry.onDone?.();
      if (started) entry.owner.entryEnded?.();
      this.#completePooled(entry);
    }
  }

  #failed(entry: Entry<Owner>, error: unknown): void {
    if (this.#stopped) return;
    const code = classifyIsolateFailure(error);
    if (this.#options.isCatastrophic()) this.#options.onBreach(entry.owner, "EDGE_SANDBOX_CATASTROPHIC", true);
    else if (code === "EDGE_SANDBOX_CPU_LIMIT" || code === "EDGE_SANDBOX_MEMORY_LIMIT") {
      // An inline entry cut off at its budget held this thread for all of it: an overrun too.
      // (Not when the breach took the isolate's clock with it: how long it ran is unknown.)
      if (this.#inInlineEntry && this.#cpuTime() !== undefined) {
        const spentMs = this.#chargeElapsed(entry);
        this.#noteDuration(spentMs);
        this.#options.onInlineOverrun(spentMs);
      }
      this.#options.onBreach(entry.owner, code, true);
    } else if (code !== "EDGE_SANDBOX_DISPOSED") this.#options.onInternalError(error);
  }

  /**
   * Entries complete in submission order, and the isolate's cpuTime only
   * advances while one runs: the time since the previous completion belongs
   * to this entry. (A pooled next entry may have started a few microseconds
   * before we read the clock; that sliver is charged one entry early.)
   */
  #charge(entry: Entry<Owner>): number {
    if (this.#stopped) return 0;
    const spentMs = this.#chargeElapsed(entry);
    this.#noteDuration(spentMs);
    if (entry.owner.cpuRemainingMs <= 0) this.#options.onBreach(entry.owner, "EDGE_SANDBOX_CPU_LIMIT", false);
    return spentMs;
  }

  /** The isolate's CPU clock, or undefined once isolated-vm has disposed the isolate (a memory-limit breach does). */
  #cpuTime(): bigint | undefined {
    try {
      return this.#options.isolate.cpuTime;
    } catch {
      return undefined;
    }
  }

  /** Charge the CPU since the last completion to `entry`'s owner; returns it in ms (0 if the clock is gone). */
  #chargeElapsed(entry: Entry<Owner>): number {
    // After a memory breach the getter throws "Isolate is disposed"; thrown
    // here (inside #pump, from a completion) it crashed the front end.
    const now = this.#cpuTime();
    if (now === undefined) return 0;
    const spentNs = now - this.#cpuAtLastCompletion;
    this.#cpuAtLastCompletion = now;
    entry.owner.chargeCpuNs(spentNs);
    return Number(spentNs) / 1e6;
  }

  #noteDuration(spentMs: number): void {
    // A clearly long entry sends the isolate to the thread pool at once (it
    // earns inline entries back by being fast again); an occasional slow one
    // (a GC, a preempted thread) only nudges the average.
    const long = spentMs > this.#options.inlineThresholdMs * LONG_ENTRY_FACTOR;
    this.#recentEntryMs = long || !Number.isFinite(this.#recentEntryMs) ? spentMs : this.#recentEntryMs * 0.8 + spentMs * 0.2;
  }

  #completePooled(entry: Entry<Owner>): void {
    const index = this.#inFlight.indexOf(entry);
    if (index !== -1) this.#inFlight.splice(index, 1);
    if (this.#inFlight.length > 0) return;
    if (this.#stopped) {
      const stoppedAt = this.#stoppedWithEntriesAt;
      this.#stoppedWithEntriesAt = undefined;
      this.#strayThreadHold?.();
      this.#strayThreadHold = undefined;
      if (stoppedAt !== undefined) this.#options.onHeldAfterStop?.(performance.now() - stoppedAt);
      return;
    }
    // Nothing in flight: give the slot back if someone waits for it (we
    // queue again behind them) or if there is nothing left to run.
    if (this.#queue.length === 0 || this.#options.scheduler.queued > 0) this.#releaseSlot();
    this.#pump();
  }

  /**
   * isolated-vm's `timeout` stops a runaway entry; this is the backstop for
   * anything that escapes it. The entry at the head of the in-flight list is
   * the one running: if the isolate's clock has run past its owner's budget
   * plus a grace period since the last completion, that is a breach.
   */
  #startWatchdog(): void {
    this.#watchdog ??= setInterval(() => {
      const head = this.#inFlight[0];
      if (head === undefined || this.#stopped) return;
      const now = this.#cpuTime();
      if (now === undefined) return;
      const runningMs = Number(now - this.#cpuAtLastCompletion) / 1e6;
      if (runningMs > Math.max(head.owner.cpuRemainingMs, 1) + TIMEOUT_GRID_MS + WATCHDOG_GRACE_MS) {
        this.#options.onBreach(head.owner, "EDGE_SANDBOX_CPU_LIMIT", true);
      }
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
