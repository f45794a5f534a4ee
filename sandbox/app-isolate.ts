import ivm from "isolated-vm";
import type { CancelSignal } from "./cancel-signal.js";
import type { InlineEntryGuard } from "./inline-entry-guard.js";
import type { EntryScheduler, ReleaseSlot } from "./entry-scheduler.js";
import { classifyIsolateFailure, SandboxError, type SandboxErrorCode } from "./errors.js";
import { createHostCallbacks, HOST_FUNCTION_NAMES, type HostCallHandlers } from "./host-functions.js";
import { OutboundFetcher } from "./outbound-fetch.js";
import { compileCached, PRELUDE_FILENAME, preludeSource } from "./prelude-script.js";
import { PRELUDE_CACHE_KEY, warmPreludeCache } from "./prelude-warmup.js";
import { HOST_GLOBAL, type FlatHeaders, type HandlerFailure, type LogLevel, type WireBody } from "./prelude/protocol.js";
import { RequestRecord } from "./request-record.js";
import type { SandboxLimits } from "./limits.js";
import { validateWireResponse, type SandboxResponse } from "./wire-response.js";

/** A request as the sandbox receives it. */
export interface SandboxRequest {
  /** Unique per request; echoed in logs. */
  readonly id: string;
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  /** Flat name/value list. */
  readonly headers: FlatHeaders;
  /** Whole body, or null for none. The sandbox takes ownership of the buffer. */
  readonly body: Uint8Array | null;
}

/** One console line or sandbox notice. */
export interface SandboxLogEntry {
  readonly level: LogLevel;
  readonly appName: string;
  readonly requestId: string;
  readonly message: string;
}

/** Everything needed to start an app's isolate. */
export interface AppIsolateOptions {
  readonly appName: string;
  /** The bundle (esbuild IIFE assigning `__edgehost_app`). */
  readonly code: string;
  /** Content hash of `code`, used as the code-cache key. */
  readonly codeHash: string;
  /** File name for the bundle's stack frames. */
  readonly bundleFilename: string;
  readonly env: Readonly<Record<string, string>>;
  readonly limits: SandboxLimits;
  readonly allowPrivateFetch: boolean;
  readonly scheduler: EntryScheduler;
  readonly log: (entry: SandboxLogEntry) => void;
  /**
   * Entries of an isolate whose recent entries took less than this run
   * inline on the main thread instead of isolated-vm's thread pool; 0 =
   * always the thread pool. Default 1 ms.
   */
  readonly inlineEntryThresholdMs?: number;
  /** Watches inline entries from another thread (see InlineEntryGuard). */
  readonly inlineEntryGuard?: InlineEntryGuard;
  /** V8 lost control of this isolate: the process must be replaced (DESIGN.md). */
  readonly onCatastrophicError: (message: string) => void;
}

/** Numbers for metrics and tests. */
export interface AppIsolateStats {
  readonly heapUsedBytes: number;
  readonly cpuTimeMs: number;
  readonly inFlight: number;
  readonly requestsServed: number;
}

type DispatchArgs = [string, ...unknown[]];

/** One entry into the isolate, submitted and not yet completed. */
interface PendingEntry {
  readonly owner: RequestRecord;
  readonly args: DispatchArgs;
  /** The owner's remaining CPU budget when the entry was submitted. */
  readonly timeoutMs: number;
}

/** How long past its timeout an entry may run before the watchdog disposes the isolate. */
const WATCHDOG_GRACE_MS = 200;
/** How often the watchdog looks, while entries are pending. */
const WATCHDOG_INTERVAL_MS = 50;
/** How often wall-time deadlines are checked; a late response is cut at most this much after its limit. */
const WALL_SWEEP_INTERVAL_MS = 25;
/** Entry timeouts end on this grid (see alignedTimeoutMs). */
const TIMEOUT_GRID_MS = 8;
/** See AppIsolateOptions.inlineEntryThresholdMs. */
const DEFAULT_INLINE_ENTRY_THRESHOLD_MS = 1;
/** An entry this many times the inline threshold moves its isolate off the main thread at once. */
const LONG_ENTRY_FACTOR = 10;
/** Live timers one isolate may hold. */
const MAX_TIMERS = 10_000;
/** Console lines kept per request (and for top-level code). */
const MAX_LOG_LINES = 1000;
/** Longest console message kept, in characters. */
const MAX_LOG_CHARS = 16_384;

/**
 * One tenant app in its own V8 isolate. Requests go in through `fetch`;
 * each entry into the isolate (request, timer, fetch result) is scheduled,
 * bounded by the owning request's remaining CPU budget and charged to it.
 * A CPU or memory breach disposes the isolate; the owner of the breach gets
 * the limit's error and the other requests in it `EDGE_SANDBOX_DISPOSED`.
 */
export class AppIsolate implements HostCallHandlers {
  readonly appName: string;
  readonly #options: AppIsolateOptions;
  readonly #isolate: ivm.Isolate;
  readonly #fetcher: OutboundFetcher;
  #dispatch: ivm.Reference<(...args: unknown[]) => unknown> | undefined;
  readonly #requests = new Map<string, RequestRecord>();
  readonly #timers = new Map<number, { handle: NodeJS.Timeout; owner: RequestRecord }>();
  readonly #fetches = new Map<number, { controller: AbortController; owner: RequestRecord }>();
  /** Entries submitted and not yet completed, in submission (= execution) order. */
  readonly #pending: PendingEntry[] = [];
  /** The scheduler slot held while entries are pending. */
  #slot: Promise<ReleaseSlot> | undefined;
  #cpuAtLastCompletion = 0n;
  /** Recent entry duration (fast rise, slow decay); unknown until the first entry completes. */
  #recentEntryMs = Number.POSITIVE_INFINITY;
  readonly #inlineThresholdMs: number;
  #inInlineEntry = false;
  #isBooted = false;
  /** Entries waiting for boot to finish, or for the thread-pool queue to drain before running inline. */
  #heldForInline: PendingEntry[] = [];
  #watchdog: NodeJS.Timeout | undefined;
  #wallSweep: NodeJS.Timeout | undefined;
  #disposedBy: SandboxErrorCode | undefined;
  #catastrophic = false;
  #requestsServed = 0;
  #onDisposed: Array<() => void> = [];

  private constructor(options: AppIsolateOptions) {
    this.appName = options.appName;
    this.#options = options;
    this.#inlineThresholdMs = options.inlineEntryThresholdMs ?? DEFAULT_INLINE_ENTRY_THRESHOLD_MS;
    this.#isolate = new ivm.Isolate({
      memoryLimit: options.limits.memoryLimitMb,
      onCatastrophicError: (message) => this.#onCatastrophic(message),
    });
    this.#fetcher = new OutboundFetcher({
      allowPrivate: options.allowPrivateFetch,
      timeoutMs: options.limits.fetchTimeoutMs,
      maxResponseBytes: options.limits.subrequestResponseLimitBytes,
    });
  }

  /**
   * Create the isolate, load the prelude and the app, and check its exports.
   * Rejects with SandboxError: STARTUP_TIMEOUT, STARTUP_FAILED,
   * NO_DEFAULT_EXPORT, NO_FETCH_HANDLER or MEMORY_LIMIT. Disposes on failure.
   */
  static async create(options: AppIsolateOptions): Promise<AppIsolate> {
    const app = new AppIsolate(options);
    try {
      await app.#boot();
      return app;
    } catch (error) {
      app.dispose();
      throw error;
    }
  }

  async #boot(): Promise<void> {
    const { limits } = this.#options;
    const context = await this.#isolate.createContext();
    const callbacks = createHostCallbacks(this, (error) => this.#internalError(error));
    const names = HOST_FUNCTION_NAMES;
    const literal = names.map((name, index) => `${name}: $${index}`).join(", ");
    await context.evalClosure(
      `globalThis.${HOST_GLOBAL} = { ${literal} };`,
      names.map((name) => callbacks[name]),
    );
    await warmPreludeCache();
    const prelude = await compileCached(this.#isolate, preludeSource(), PRELUDE_FILENAME, PRELUDE_CACHE_KEY);
    this.#dispatch = (await prelude.run(context, { reference: true, timeout: limits.startupLimitMs })) as ivm.Reference<
      (...args: unknown[]) => unknown
    >;
    prelude.release();
    const app = await compileCached(this.#isolate, this.#options.code, this.#options.bundleFilename, this.#options.codeHash);
    try {
      await app.run(context, { timeout: limits.startupLimitMs });
    } catch (error) {
      throw this.#startupError(error);
    } finally {
      app.release();
    }
    let verdict: unknown;
    try {
      verdict = await this.#dispatch.apply(undefined, ["init", { ...this.#options.env }], {
        arguments: { copy: true },
        result: { copy: true },
        timeout: limits.startupLimitMs,
      });
    } catch (error) {
      throw this.#startupError(error);
    }
    if (verdict === "no_default_export") throw new SandboxError("EDGE_SANDBOX_NO_DEFAULT_EXPORT");
    if (verdict === "no_fetch_handler") throw new SandboxError("EDGE_SANDBOX_NO_FETCH_HANDLER");
    // Start-up time is the startup limit's business, not the first request's.
    this.#cpuAtLastCompletion = this.#isolate.cpuTime;
    this.#isBooted = true;
    const held = this.#heldForInline;
    this.#heldForInline = [];
    for (const entry of held) this.#submit(entry);
  }

  #startupError(error: unknown): SandboxError {
    const code = classifyIsolateFailure(error);
    if (code === "EDGE_SANDBOX_CPU_LIMIT") {
      return new SandboxError(
        "EDGE_SANDBOX_STARTUP_TIMEOUT",
        `top-level evaluation exceeded ${this.#options.limits.startupLimitMs} ms`,
        { limit: this.#options.limits.startupLimitMs },
      );
    }
    if (code === "EDGE_SANDBOX_MEMORY_LIMIT") return new SandboxError("EDGE_SANDBOX_MEMORY_LIMIT");
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new SandboxError("EDGE_SANDBOX_STARTUP_FAILED", `app threw during top-level evaluation: ${message}`, {
      appStack: stack,
    });
  }

  /** True once disposed (by a breach, a reload or shutdown). */
  get isDisposed(): boolean {
    return this.#disposedBy !== undefined;
  }

  /** Requests currently inside this isolate (including waitUntil work). */
  get inFlight(): number {
    return this.#requests.size;
  }

  /** Run `listener` once when the isolate is disposed. */
  onDisposed(listener: () => void): void {
    if (this.isDisposed) listener();
    else this.#onDisposed.push(listener);
  }

  /**
   * Hand one request to the app. Resolves with its response; rejects with
   * SandboxError (APP_EXCEPTION with `details.appStack`, BAD_RESPONSE,
   * CPU_LIMIT, MEMORY_LIMIT, WALL_LIMIT, RESPONSE_TOO_LARGE, ABORTED,
   * DISPOSED, TOO_MANY_REQUESTS, CATASTROPHIC).
   */
  fetch(request: SandboxRequest, signal?: CancelSignal): Promise<SandboxResponse> {
    if (this.#disposedBy !== undefined) return Promise.reject(this.#disposedError());
    const { limits } = this.#options;
    if (this.#requests.size >= limits.maxConcurrentRequests) {
      return Promise.reject(new SandboxError("EDGE_SANDBOX_TOO_MANY_REQUESTS", undefined, { limit: limits.maxConcurrentRequests }));
    }
    const record = new RequestRecord(request.id, limits.cpuLimitMs, limits.wallLimitMs, limits.waitUntilLimitMs, () => this.#drop(record));
    this.#requests.set(request.id, record);
    record.onWallTimeout = () => this.#abortInIsolate(record);
    this.#startWallSweep();
    if (signal) {
      if (signal.aborted) record.fail(new SandboxError("EDGE_SANDBOX_ABORTED"));
      else {
        const onAbort = (): void => {
          record.fail(new SandboxError("EDGE_SANDBOX_ABORTED"));
          this.#abortInIsolate(record);
        };
        signal.onAbort(() => {
          if (!record.isDropped) onAbort();
        });
      }
    }
    const body = request.body === null ? null : exactArrayBuffer(request.body);
    this.#enter(record, ["request", request.id, request.method, request.url, request.headers, body]);
    return record.response;
  }

  /** One timer per isolate, running while it has requests, enforces their wall-time limits. */
  #startWallSweep(): void {
    if (this.#wallSweep !== undefined) return;
    this.#wallSweep = setInterval(() => {
      if (this.#requests.size === 0) {
        clearInterval(this.#wallSweep);
        this.#wallSweep = undefined;
        return;
      }
      const now = performance.now();
      for (const record of [...this.#requests.values()]) record.checkWallDeadline(now);
    }, WALL_SWEEP_INTERVAL_MS);
    this.#wallSweep.unref();
  }

  #abortInIsolate(record: RequestRecord): void {
    if (this.#disposedBy === undefined) this.#enter(record, ["abort", record.id]);
    record.drop();
  }

  /**
   * Submit one entry into the isolate. Entries are pipelined: isolated-vm
   * queues them per isolate and runs them back to back on the isolate's
   * thread, so the main thread never waits for one to finish before
   * submitting the next. The isolate holds one scheduler slot while any of
   * its entries is pending.
   */
  #enter(owner: RequestRecord, args: DispatchArgs): void {
    this.#submit({ owner, args, timeoutMs: alignedTimeoutMs(owner.cpuRemainingMs) });
  }

  #submit(entry: PendingEntry): void {
    if (!this.#isBooted) {
      // Host calls made during top-level evaluation (a fetch there is
      // refused) are answered once the isolate has finished booting.
      this.#heldForInline.push(entry);
      return;
    }
    if (this.#prefersInline() && !this.#inInlineEntry) {
      if (this.#pending.length === 0) {
        this.#runInline(entry);
        return;
      }
      // Entries already queued on the thread pool run first (order is kept);
      // this one waits for them and then runs inline.
      this.#heldForInline.push(entry);
      return;
    }
    this.#pending.push(entry);
    if (this.#slot === undefined) {
      this.#slot = this.#options.scheduler.acquire();
      this.#startWatchdog();
    }
    void this.#slot.then(() => this.#runEntry(entry));
  }

  /**
   * Inline entries run on the main thread (applySync). For an isolate whose
   * entries are short, the two thread hops of an async entry cost more than
   * the entry itself; running it inline blocks the event loop for about as
   * long as the hops would have. Only when nothing of this isolate is queued
   * (order is kept) and never re-entrantly. An entry that turns out long
   * moves the isolate back to the thread pool.
   */
  #prefersInline(): boolean {
    return this.#recentEntryMs < this.#inlineThresholdMs;
  }

  #runInline(entry: PendingEntry): void {
    const dispatch = this.#dispatch;
    if (this.#disposedBy !== undefined || dispatch === undefined) return;
    this.#inInlineEntry = true;
    this.#options.inlineEntryGuard?.enter(Date.now() + entry.timeoutMs);
    try {
      dispatch.applySync(undefined, entry.args, { arguments: { copy: true }, timeout: entry.timeoutMs });
      this.#chargeCompleted(entry);
    } catch (error) {
      this.#entryFailed(entry, error);
    } finally {
      this.#options.inlineEntryGuard?.exit();
      this.#inInlineEntry = false;
    }
  }

  #entryFailed(entry: PendingEntry, error: unknown): void {
    const code = classifyIsolateFailure(error);
    if (this.#catastrophic) this.#breach(entry.owner, "EDGE_SANDBOX_CATASTROPHIC");
    else if (code === "EDGE_SANDBOX_CPU_LIMIT" || code === "EDGE_SANDBOX_MEMORY_LIMIT") this.#breach(entry.owner, code);
    else if (code !== "EDGE_SANDBOX_DISPOSED") this.#internalError(error);
  }

  async #runEntry(entry: PendingEntry): Promise<void> {
    const dispatch = this.#dispatch;
    try {
      if (this.#disposedBy !== undefined || dispatch === undefined) return;
      await dispatch.apply(undefined, entry.args, { arguments: { copy: true }, timeout: entry.timeoutMs });
      this.#chargeCompleted(entry);
    } catch (error) {
      this.#entryFailed(entry, error);
    } finally {
      this.#completeEntry(entry);
    }
  }

  /**
   * Entries complete in submission order, and the isolate's cpuTime only
   * advances while one runs: the time since the previous completion belongs
   * to this entry. (The next entry may have started a few microseconds
   * before we read the clock; that sliver is charged one entry early.)
   */
  #chargeCompleted(entry: PendingEntry): void {
    if (this.#disposedBy !== undefined) return;
    const now = this.#isolate.cpuTime;
    const spentNs = now - this.#cpuAtLastCompletion;
    entry.owner.chargeCpuNs(spentNs);
    this.#cpuAtLastCompletion = now;
    const spentMs = Number(spentNs) / 1e6;
    // A clearly long entry sends the isolate to the thread pool at once; an
    // occasional slow one (a GC, a preempted thread) only nudges the average.
    this.#recentEntryMs =
      spentMs > this.#inlineThresholdMs * LONG_ENTRY_FACTOR || !Number.isFinite(this.#recentEntryMs)
        ? spentMs
        : this.#recentEntryMs * 0.8 + spentMs * 0.2;
    if (entry.owner.cpuRemainingMs <= 0) this.#breach(entry.owner, "EDGE_SANDBOX_CPU_LIMIT");
  }

  #completeEntry(entry: PendingEntry): void {
    const index = this.#pending.indexOf(entry);
    if (index !== -1) this.#pending.splice(index, 1);
    if (this.#pending.length === 0 && this.#slot !== undefined) {
      const slot = this.#slot;
      this.#slot = undefined;
      this.#stopWatchdog();
      void slot.then((release) => release());
    }
    if (this.#pending.length === 0 && this.#heldForInline.length > 0) {
      const held = this.#heldForInline;
      this.#heldForInline = [];
      for (const next of held) this.#submit(next);
    }
  }

  /**
   * isolated-vm's `timeout` stops a runaway entry; this is the backstop for
   * anything that escapes it. The entry at the head of the queue is the one
   * running: if the isolate's clock has run past its timeout plus a grace
   * period since the last completion, the isolate is disposed.
   */
  #startWatchdog(): void {
    this.#watchdog ??= setInterval(() => {
      const head = this.#pending[0];
      if (head === undefined || this.#disposedBy !== undefined) return;
      const runningMs = Number(this.#isolate.cpuTime - this.#cpuAtLastCompletion) / 1e6;
      if (runningMs > head.timeoutMs + WATCHDOG_GRACE_MS) this.#breach(head.owner, "EDGE_SANDBOX_CPU_LIMIT");
    }, WATCHDOG_INTERVAL_MS);
    this.#watchdog.unref();
  }

  #stopWatchdog(): void {
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }

  /** A limit was breached by `owner`: fail it with `code`, everything else with DISPOSED. */
  #breach(owner: RequestRecord, code: SandboxErrorCode): void {
    if (this.#disposedBy !== undefined) return;
    const { limits } = this.#options;
    const limit = code === "EDGE_SANDBOX_CPU_LIMIT" ? limits.cpuLimitMs : limits.memoryLimitMb;
    owner.fail(new SandboxError(code, undefined, { limit }));
    this.#log("warn", owner.id, `${SandboxErrorCodeText(code)}; isolate recycled`);
    this.#disposeWith(code);
  }

  #onCatastrophic(message: string): void {
    this.#catastrophic = true;
    this.#log("error", "", `catastrophic isolate failure: ${message}`);
    for (const record of this.#requests.values()) {
      record.fail(new SandboxError("EDGE_SANDBOX_CATASTROPHIC", `isolate failed: ${message}`));
    }
    this.#options.onCatastrophicError(message);
  }

  // ---- host calls (untrusted arguments) ----

  log(level: LogLevel, requestId: string, message: string): void {
    const id = String(requestId);
    // Writing logs costs the host's thread, not the isolate's CPU budget:
    // cap lines per request (and for top-level code) so a console.log loop
    // cannot slow other tenants down.
    const record = this.#requests.get(id);
    const counter = record ?? this;
    counter.logLines++;
    if (counter.logLines > MAX_LOG_LINES) {
      if (counter.logLines === MAX_LOG_LINES + 1) {
        this.#log("warn", id, `more than ${MAX_LOG_LINES} console lines; the rest are dropped`);
      }
      return;
    }
    const text = String(message);
    this.#log(level, id, text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}… (truncated)` : text);
  }

  /** Console lines logged outside any request (top-level code). */
  logLines = 0;

  respond(requestId: string, status: number, statusText: string, headers: FlatHeaders, body: WireBody, finished: boolean): void {
    const record = this.#requests.get(String(requestId));
    if (!record) return;
    if (!record.isSettled) {
      try {
        record.succeed(validateWireResponse(status, statusText, headers, body, this.#options.limits.responseLimitBytes));
        this.#requestsServed++;
      } catch (error) {
        record.fail(error as SandboxError);
      }
    }
    if (finished === true) record.markWaitUntilDone();
  }

  fail(requestId: string, code: HandlerFailure, name: string, message: string, stack: string, finished: boolean): void {
    const record = this.#requests.get(String(requestId));
    if (!record) return;
    if (!record.isSettled) {
      const summary = `${String(name)}: ${String(message)}`.slice(0, MAX_LOG_CHARS);
      const errorCode = code === "bad_response" ? "EDGE_SANDBOX_BAD_RESPONSE" : "EDGE_SANDBOX_APP_EXCEPTION";
      record.fail(new SandboxError(errorCode, summary, { appStack: withoutPreludeFrames(String(stack)).slice(0, MAX_LOG_CHARS) }));
    }
    if (finished === true) record.markWaitUntilDone();
  }

  waitUntilDone(requestId: string): void {
    this.#requests.get(String(requestId))?.markWaitUntilDone();
  }

  fetchStart(callId: number, requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null): void {
    const owner = this.#requests.get(String(requestId));
    const id = Number(callId);
    if (!owner || owner.isDropped) {
      this.#deliverFetchError(undefined, id, "fetch is only allowed while handling a request (not at top level or after the response)");
      return;
    }
    if (!owner.takeSubrequest(this.#options.limits.subrequestLimit)) {
      this.#deliverFetchError(owner, id, `too many subrequests: the limit is ${this.#options.limits.subrequestLimit} per request`);
      return;
    }
    const controller = new AbortController();
    this.#fetches.set(id, { controller, owner });
    const request = { method: String(method), url: String(url), headers: Array.isArray(headers) ? headers.map(String) : [], body };
    this.#fetcher.fetch(request, controller.signal).then(
      (response) => {
        if (!this.#fetches.delete(id) || owner.isDropped) return;
        this.#enter(owner, ["fetch-result", id, response.status, response.statusText, response.headers, response.body, response.url]);
      },
      (error: unknown) => {
        if (!this.#fetches.delete(id) || owner.isDropped) return;
        this.#deliverFetchError(owner, id, error instanceof Error ? error.message : String(error));
      },
    );
  }

  #deliverFetchError(owner: RequestRecord | undefined, callId: number, message: string): void {
    // Delivered as an entry of its own, never synchronously inside the
    // isolate's call to us (an ignored callback cannot re-enter).
    const target = owner ?? new RequestRecord("", this.#options.limits.cpuLimitMs, 0, 0, () => undefined);
    this.#enter(target, ["fetch-error", callId, "TypeError", message]);
  }

  fetchAbort(callId: number): void {
    const entry = this.#fetches.get(Number(callId));
    if (!entry) return;
    this.#fetches.delete(Number(callId));
    entry.controller.abort();
  }

  timerStart(timerId: number, requestId: string, delayMs: number): void {
    const owner = this.#requests.get(String(requestId));
    const id = Number(timerId);
    if (!owner || owner.isDropped) {
      this.#log("warn", String(requestId), "setTimeout outside a request is ignored (timers run only while a request is being handled)");
      return;
    }
    if (this.#timers.size >= MAX_TIMERS) {
      this.#log("warn", owner.id, `timer ignored: more than ${MAX_TIMERS} live timers`);
      return;
    }
    const delay = Math.min(Math.max(Number(delayMs) || 0, 0), 2_147_483_647);
    const handle = setTimeout(() => {
      this.#timers.delete(id);
      if (!owner.isDropped) this.#enter(owner, ["timer", id]);
    }, delay);
    this.#timers.set(id, { handle, owner });
  }

  timerClear(timerId: number): void {
    const entry = this.#timers.get(Number(timerId));
    if (!entry) return;
    clearTimeout(entry.handle);
    this.#timers.delete(Number(timerId));
  }

  // ---- lifecycle ----

  /** A request's work is over (done, aborted or timed out): release what it holds. */
  #drop(record: RequestRecord): void {
    this.#requests.delete(record.id);
    for (const [id, timer] of this.#timers) {
      if (timer.owner === record) {
        clearTimeout(timer.handle);
        this.#timers.delete(id);
      }
    }
    for (const [id, pending] of this.#fetches) {
      if (pending.owner === record) {
        pending.controller.abort();
        this.#fetches.delete(id);
      }
    }
  }

  #disposedError(): SandboxError {
    return new SandboxError("EDGE_SANDBOX_DISPOSED");
  }

  #disposeWith(code: SandboxErrorCode): void {
    if (this.#disposedBy !== undefined) return;
    this.#disposedBy = code;
    for (const record of [...this.#requests.values()]) {
      record.fail(this.#disposedError());
      record.drop();
    }
    for (const timer of this.#timers.values()) clearTimeout(timer.handle);
    this.#timers.clear();
    for (const pending of this.#fetches.values()) pending.controller.abort();
    this.#fetches.clear();
    this.#dispatch = undefined;
    this.#heldForInline = [];
    this.#stopWatchdog();
    clearInterval(this.#wallSweep);
    this.#wallSweep = undefined;
    void this.#fetcher.close().catch(() => undefined);
    // After a catastrophic error the isolate never settles; disposing it
    // could block, and the process is about to be replaced anyway.
    if (!this.#catastrophic) {
      try {
        this.#isolate.dispose();
      } catch {
        // Already disposed by isolated-vm after a memory-limit breach.
      }
    }
    const listeners = this.#onDisposed;
    this.#onDisposed = [];
    for (const listener of listeners) listener();
  }

  /** Dispose the isolate now; requests still in it fail with DISPOSED. Idempotent. */
  dispose(): void {
    this.#disposeWith("EDGE_SANDBOX_DISPOSED");
  }

  /** Heap, CPU and request counters. Zeroes once disposed. */
  stats(): AppIsolateStats {
    if (this.isDisposed) return { heapUsedBytes: 0, cpuTimeMs: 0, inFlight: 0, requestsServed: this.#requestsServed };
    const heap = this.#isolate.getHeapStatisticsSync();
    return {
      heapUsedBytes: heap.used_heap_size + heap.externally_allocated_size,
      cpuTimeMs: Number(this.#isolate.cpuTime) / 1e6,
      inFlight: this.#requests.size,
      requestsServed: this.#requestsServed,
    };
  }

  #log(level: LogLevel, requestId: string, message: string): void {
    this.#options.log({ level, appName: this.appName, requestId, message });
  }

  #internalError(error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.#log("error", "", `internal sandbox error: ${text}`);
  }
}

function SandboxErrorCodeText(code: SandboxErrorCode): string {
  return new SandboxError(code).message;
}

/** An ArrayBuffer holding exactly `bytes` (no copy when it already does). */
function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

/** Drop stack frames of the prelude: they are edgehost's plumbing, not the app's code. */
function withoutPreludeFrames(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => !line.includes(`(${PRELUDE_FILENAME}:`) && !line.trimStart().startsWith(`at ${PRELUDE_FILENAME}:`))
    .join("\n");
}

/**
 * isolated-vm enforces `timeout` with a timer thread that sleeps until the
 * earliest deadline of every timed call, finished or not, and wakes once per
 * distinct deadline: at tens of thousands of entries a second that thread's
 * wake-ups cost a third of a core (measured, bench/RESULTS.md). Rounding each
 * deadline up to a grid point makes the deadlines of all entries started in
 * one grid window fall within a millisecond, so the thread wakes a few
 * times per window instead of once per entry. A runaway entry runs at most
 * one grid step past its budget; the exact charge is still made afterwards
 * from the isolate's CPU clock.
 */
function alignedTimeoutMs(budgetMs: number): number {
  const now = performance.now();
  const deadline = Math.ceil((now + Math.max(1, budgetMs)) / TIMEOUT_GRID_MS) * TIMEOUT_GRID_MS;
  return Math.max(1, Math.ceil(deadline - now));
}
