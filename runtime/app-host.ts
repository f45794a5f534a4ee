import type { AppBundle } from "../loader/index.js";
import { BUNDLE_FILENAME } from "../loader/index.js";
import {
  AppIsolate,
  BootThrottle,
  HostMemoryBudget,
  HostWorkBudget,
  isSandboxError,
  SandboxError,
  type CancelSignal,
  type EntryScheduler,
  type InlineEntryGuard,
  type InlinePolicy,
  type OutboundHostRule,
  type SandboxLimits,
  type SandboxLogEntry,
  type SandboxRequest,
  type SandboxResponse,
} from "../sandbox/index.js";
import type { LogSink } from "./logger.js";

/** How one app is run: its limits and environment. */
export interface AppHostOptions {
  readonly appName: string;
  readonly env: Readonly<Record<string, string>>;
  readonly limits: SandboxLimits;
  readonly allowPrivateFetch: boolean;
  /** Hosts the app may fetch (`outbound.allow`); undefined = any public host. */
  readonly outboundAllow?: readonly OutboundHostRule[] | undefined;
  readonly scheduler: EntryScheduler;
  readonly log: LogSink;
  readonly onCatastrophicError: (message: string) => void;
  /** See AppIsolateOptions.inlineEntryThresholdMs; 0 = never inline. */
  readonly inlineEntryThresholdMs: number;
  readonly inlineEntryGuard?: InlineEntryGuard;
  /** Shared verdicts on which apps may run inline (see InlinePolicy). */
  readonly inlinePolicy?: InlinePolicy;
  /** The app's host-memory account, if the caller keeps it (it must outlive this host's isolates). Default: a new one as large as the memory limit. */
  readonly hostMemory?: HostMemoryBudget;
  /** The app's host-work rate, if the caller keeps it (shared by replicas, say). Default: a new one at the default rate. */
  readonly hostWork?: HostWorkBudget;
  /** Told when an isolate has booted for a request (a cold start; not a `--watch` reload's swap). */
  readonly onColdStart?: () => void;
}

/** How often a draining host looks whether its requests are done. */
const DRAIN_POLL_MS = 20;

/**
 * Keeps one app's warm isolate. A request finds the current isolate or
 * starts one (a cold start after a limit breach recycled the last), paced by
 * a BootThrottle so that failing or breaching apps cannot turn every request
 * into a boot; a new bundle (`--watch`) starts a new isolate and swaps it in
 * only once it has booted, while requests already inside the old one finish
 * there.
 */
export class AppHost {
  readonly #options: AppHostOptions;
  #bundle: AppBundle;
  #current: AppIsolate | undefined;
  #starting: Promise<AppIsolate> | undefined;
  #generation = 0;
  readonly #retired = new Set<AppIsolate>();
  readonly #throttle = new BootThrottle();
  readonly #hostMemory: HostMemoryBudget;
  /** Host work (decoding) the app makes the host do, paced per second across its isolates and their recycles. */
  readonly #hostWork: HostWorkBudget;
  /** The isolate whose breach recycle was already counted. */
  #countedRecycle: AppIsolate | undefined;
  /** Requests that arrived with no live isolate and wait for one to boot. */
  #awaitingBoot = 0;
  /** dispose() was called: no isolate boots any more (requests reject with DISPOSED). */
  #disposed = false;

  constructor(bundle: AppBundle, options: AppHostOptions) {
    this.#bundle = bundle;
    this.#options = options;
    this.#hostMemory = options.hostMemory ?? new HostMemoryBudget(options.limits.memoryLimitMb * 1024 * 1024);
    this.#hostWork = options.hostWork ?? new HostWorkBudget();
  }

  /** The app's host-work rate (see HostWorkBudget), one across its isolates and their recycles. */
  get hostWork(): HostWorkBudget {
    return this.#hostWork;
  }

  /**
   * Host bytes held for this app (request bodies being read, subrequest
   * bodies), one account across its isolates and their recycles, as large
   * as its memory limit.
   */
  get hostMemory(): HostMemoryBudget {
    return this.#hostMemory;
  }

  get bundle(): AppBundle {
    return this.#bundle;
  }

  /** Boot the first isolate; rejects with the app's start-up SandboxError. */
  async start(): Promise<void> {
    await this.#isolate();
  }

  /** Answer one request in the app's isolate. Rejects with SandboxError. */
  async fetch(request: SandboxRequest, signal: CancelSignal): Promise<SandboxResponse> {
    const current = this.#current;
    if (current !== undefined && !current.isDisposed) return current.fetch(request, signal);
    // Counted from the call on (no await before it): a drain that looks now
    // sees this request, though no isolate holds it yet.
    this.#awaitingBoot++;
    let isolate: AppIsolate;
    try {
      isolate = await this.#isolate();
    } finally {
      this.#awaitingBoot--;
    }
    return isolate.fetch(request, signal);
  }

  #isolate(): Promise<AppIsolate> {
    if (this.#disposed) return Promise.reject(new SandboxError("EDGE_SANDBOX_DISPOSED"));
    const current = this.#current;
    if (current !== undefined && !current.isDisposed) return Promise.resolve(current);
    if (current !== undefined && this.#countedRecycle !== current && current.disposalReason !== "EDGE_SANDBOX_DISPOSED") {
      this.#countedRecycle = current;
      this.#throttle.recycled();
    }
    if (this.#starting === undefined) {
      const refusal = this.#throttle.refusal();
      if (refusal !== undefined) return Promise.reject(refusal);
      this.#starting = this.#boot(this.#bundle).finally(() => {
        this.#starting = undefined;
      });
    }
    return this.#starting;
  }

  async #boot(bundle: AppBundle): Promise<AppIsolate> {
    const generation = this.#generation;
    let isolate: AppIsolate;
    try {
      isolate = await this.#create(bundle);
    } catch (error) {
      if (isSandboxError(error) && generation === this.#generation) this.#throttle.bootFailed(error);
      throw error;
    }
    this.#throttle.bootSucceeded();
    this.#options.onColdStart?.();
    // A reload or a dispose raced this boot: this isolate retires. Not
    // through #isolate(): #starting is still this very boot, and a boot that
    // awaits itself never settles (requests hung until their client gave up).
    if (generation !== this.#generation) {
      isolate.dispose();
      if (this.#disposed) throw new SandboxError("EDGE_SANDBOX_DISPOSED");
      // The newer bundle: a reload's isolate if it is in, else a boot of it.
      const installed = this.#current;
      return installed !== undefined && !installed.isDisposed ? installed : this.#boot(this.#bundle);
    }
    const installed = this.#current;
    if (installed !== undefined && !installed.isDisposed) {
      // A reload installed its isolate while this boot ran: it wins.
      isolate.dispose();
      return installed;
    }
    this.#current = isolate;
    return isolate;
  }

  #create(bundle: AppBundle): Promise<AppIsolate> {
    const options = this.#options;
    return AppIsolate.create({
      appName: options.appName,
      code: bundle.code,
      codeHash: bundle.hash,
      bundleFilename: BUNDLE_FILENAME,
      env: options.env,
      limits: options.limits,
      allowPrivateFetch: options.allowPrivateFetch,
      outboundAllow: options.outboundAllow,
      scheduler: options.scheduler,
      log: (entry) => this.#log(entry),
      onCatastrophicError: options.onCatastrophicError,
      onThreadHeldAfterDispose: (heldMs) => this.#throttle.threadHeld(heldMs),
      inlineEntryThresholdMs: options.inlineEntryThresholdMs,
      hostMemory: this.#hostMemory,
      hostWork: this.#hostWork,
      ...(options.inlineEntryGuard ? { inlineEntryGuard: options.inlineEntryGuard } : {}),
      ...(options.inlinePolicy ? { inlinePolicy: options.inlinePolicy } : {}),
    });
  }

  /**
   * Swap in a new bundle. The new isolate boots first; only once it has
   * does the bundle become the app's, so a broken edit keeps the old
   * version serving (now and for every later cold start) and rejects here.
   * The old isolate is disposed once its in-flight requests are done.
   */
  async reload(bundle: AppBundle): Promise<void> {
    if (this.#disposed) throw new SandboxError("EDGE_SANDBOX_DISPOSED");
    const generation = ++this.#generation;
    const next = await this.#create(bundle);
    if (generation !== this.#generation) {
      // A newer reload (or dispose) overtook this one.
      next.dispose();
      return;
    }
    const previous = this.#current;
    this.#bundle = bundle;
    this.#current = next;
    this.#starting = undefined;
    this.#throttle.bootSucceeded();
    if (previous !== undefined) this.#retire(previous);
  }

  /**
   * The warm cache let this app go: the current isolate is disposed once
   * the requests inside it are done, and the next request starts a new one
   * (a cold start, not a recycle: the boot throttle does not count it).
   */
  evict(): void {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) this.#retire(current);
  }

  /** Heap bytes of this app's live isolates (see AppIsolate.heapBytes). */
  async sampleHeapBytes(): Promise<number> {
    const sizes = await Promise.all(this.isolates.map((isolate) => isolate.heapBytes()));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  }

  #retire(isolate: AppIsolate): void {
    this.#retired.add(isolate);
    const disposeWhenIdle = (): void => {
      if (isolate.inFlight === 0 || isolate.isDisposed) {
        isolate.dispose();
        this.#retired.delete(isolate);
      } else {
        setTimeout(disposeWhenIdle, 50).unref();
      }
    };
    disposeWhenIdle();
  }

  /** Requests in flight across the current and retiring isolates (waitUntil work included), and those waiting for a boot. */
  get inFlight(): number {
    let count = this.#awaitingBoot + (this.#current?.inFlight ?? 0);
    for (const isolate of this.#retired) count += isolate.inFlight;
    return count;
  }

  /**
   * True when the current isolate has requests inside and runs its entries
   * on the thread pool: only then would another isolate of the app (a
   * replica) run in parallel with it. An isolate whose entries run inline
   * is never busy in that sense, however many requests it serves.
   */
  get isBusyOnPool(): boolean {
    const current = this.#current;
    return current !== undefined && current.inFlight > 0 && current.entriesRunOnPool;
  }

  /** The current isolate, if one is running (for stats and tests). */
  get currentIsolate(): AppIsolate | undefined {
    return this.#current;
  }

  /** Every live isolate of this app (current and retiring). */
  get isolates(): AppIsolate[] {
    const live = [...this.#retired];
    if (this.#current !== undefined && !this.#current.isDisposed) live.push(this.#current);
    return live.filter((isolate) => !isolate.isDisposed);
  }

  /**
   * Wait until no request or `ctx.waitUntil` work is left in this app's
   * isolates, or `timeoutMs` has passed; then dispose them all.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.inFlight > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    this.dispose();
  }

  /** Dispose every isolate of this app. */
  dispose(): void {
    this.#disposed = true;
    this.#generation++;
    this.#current?.dispose();
    this.#current = undefined;
    for (const isolate of this.#retired) isolate.dispose();
    this.#retired.clear();
  }

  #log(entry: SandboxLogEntry): void {
    this.#options.log({
      level: entry.level,
      app: entry.appName,
      requestId: entry.requestId,
      message: entry.message,
      ...(entry.source === undefined ? {} : { source: entry.source }),
    });
  }
}
