// structuredClone transfer (blobs): V8 flags must be set before the first isolate exists.
import "./v8-flags.js";
import ivm from "isolated-vm";
import type { CancelSignal } from "./cancel-signal.js";
import type { InlineEntryGuard } from "./inline-entry-guard.js";
import type { EntryScheduler } from "./entry-scheduler.js";
import { BackgroundBudget } from "./background-budget.js";
import { EntryRunner, type EntryBreach, type EntryOwner } from "./entry-runner.js";
import { classifyIsolateFailure, SandboxError, type SandboxErrorCode } from "./errors.js";
import { DigestJobs } from "./digest-jobs.js";
import { CryptoJobs } from "./webcrypto/crypto-jobs.js";
import type { CryptoOutcome } from "./webcrypto/operations.js";
import { isFailpointOn } from "./failpoints.js";
import { bodyArgument, exactArrayBuffer } from "./entry-body.js";
import { DirectFetchedBody } from "./direct-fetched-body.js";
import { FetchedBodies } from "./fetched-bodies.js";
import { createHostCallbacks, HOST_FUNCTION_NAMES, type HostCallHandlers } from "./host-functions.js";
import { escapeLogText } from "./log-text.js";
import { inboundHopCount, MAX_FETCH_DEPTH, withLoopMarker } from "./cdn-loop.js";
import { HostMemoryBudget } from "./host-memory.js";
import { HostWorkBudget } from "./host-work.js";
import { DEFAULT_SUBREQUEST_BODY_LIMIT_BYTES, OutboundFetcher } from "./outbound-fetch.js";
import { validateOutboundRequest } from "./outbound-request.js";
import { OwnedResources } from "./owned-resources.js";
import { compileCached, PRELUDE_FILENAME, preludeSource, withoutPreludeFrames } from "./prelude-script.js";
import { PRELUDE_CACHE_KEY, warmPreludeCache } from "./prelude-warmup.js";
import type { InlinePolicy } from "./inline-policy.js";
import type { OutboundHostRule } from "./outbound-allow.js";
import {
  HOST_GLOBAL,
  HOST_APP_ENV,
  MAX_DIGESTS_IN_FLIGHT,
  MAX_CRYPTO_IN_FLIGHT,
  MAX_CRYPTO_KEYS,
  type FlatHeaders,
  type HandlerFailure,
  type HostCallRefusal,
  type LogLevel,
  type WireBody,
} from "./prelude/protocol.js";
import { PulledBody } from "./pulled-body.js";
import { isRequestBodyStream, type RequestBodyStream } from "./request-body-stream.js";
import { RequestRecord } from "./request-record.js";
import type { SandboxLimits } from "./limits.js";
import { validateWireResponse, type SandboxResponse } from "./wire-response.js";


/** `headers` (flat, lower-case names) without any `name` entry. */
function withoutHeader(headers: readonly string[], name: string): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i] !== name) kept.push(headers[i] as string, headers[i + 1] as string);
  return kept;
}

/**
 * Host CPU charged per MiB of a decoded (gzip, deflate, br) subrequest
 * body, per coding (outbound-fetch.ts charges a stacked body for each
 * layer). Measured with bench/decode-cost.ts on this 2-core machine (Node
 * 20, ten 64 KB gzip bombs of 64 MiB read in parallel, 8 runs each of
 * 64 KiB and 256 KiB pieces interleaved, a benchmark of another engineer
 * running beside it): the host's own decoding (content-decoding.ts) costs
 * 0.4-0.9 ms of event loop per MiB (median 0.6, the same for both piece
 * sizes; half of it garbage collection of the pieces) and 0.8-1.1 ms of
 * process CPU, the libuv pool's zlib included (median 0.9). undici's fetch
 * decoding in 16 KiB pieces measured 1.15-1.97 ms of event loop, 1.6-2.1 ms
 * of CPU per MiB in the same minute. The charge is the CPU figure.
 */
const DECODE_MS_PER_MIB = 0.9;
/** A request as the sandbox receives it. */
export interface SandboxRequest {
  /** Unique per request; echoed in logs. */
  readonly id: string;
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  /** Flat name/value list. */
  readonly headers: FlatHeaders;
  /**
   * Whole body, or null for none (the sandbox takes ownership of the
   * buffer), or a stream the app's `request.body` reads as it goes.
   */
  readonly body: Uint8Array | RequestBodyStream | null;
  /**
   * Told of the CPU charged to this request, ms, after every entry into the
   * isolate that ran for it (its handler, timers, fetch results, body
   * pulls, waitUntil work): how a caller meters requests without reaching
   * into the sandbox.
   */
  readonly onCpu?: ((ms: number) => void) | undefined;
  /**
   * Told once, when the response has settled and none of the request's
   * entries is running: from then on onCpu has the answer's CPU. A pooled
   * entry is charged when isolated-vm's thread hands its completion back,
   * which under load can come turns after the response itself (or before:
   * then this is told as the response settles).
   */
  readonly onAccounted?: (() => void) | undefined;
}

/** One console line or sandbox notice. */
export interface SandboxLogEntry {
  readonly level: LogLevel;
  readonly appName: string;
  readonly requestId: string;
  readonly message: string;
  /** "console" for the app's own console output; absent for the sandbox's notices about it. */
  readonly source?: "console";
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
  /** Hosts the app may fetch (`outbound.allow`); undefined = any public host. */
  readonly outboundAllow?: readonly OutboundHostRule[] | undefined;
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
  /**
   * Which apps may still run inline, shared by every isolate of the app
   * (and of the process); keyed by `appName`. Without one, inline entries
   * are allowed and an app that runs long only loses them in this isolate.
   */
  readonly inlinePolicy?: InlinePolicy;
  /** V8 lost control of this isolate: the process must be replaced (DESIGN.md). */
  readonly onCatastrophicError: (message: string) => void;
  /**
   * After a breach disposed the isolate, an entry that could not be
   * interrupted kept its thread busy for `heldMs` more (CPU the app used
   * past every budget); the owner may pace the app's next start by it.
   */
  readonly onThreadHeldAfterDispose?: (heldMs: number) => void;
  /**
   * The app's account of host bytes (subrequest bodies, and request and
   * response bodies where the caller uses it). Pass one per app so it
   * survives isolate recycles; default: a new one of `limits.memoryLimitMb`.
   */
  readonly hostMemory?: HostMemoryBudget;
  /**
   * The app's rate of host work (decoding its subrequest bodies), shared by
   * its isolates like `hostMemory`; default: a new one of the default rate.
   */
  readonly hostWork?: HostWorkBudget;
}

/** Numbers for metrics and tests. */
export interface AppIsolateStats {
  readonly heapUsedBytes: number;
  readonly cpuTimeMs: number;
  readonly inFlight: number;
  readonly requestsServed: number;
  /** CPU spent creating the isolate, loading the prelude and evaluating the app. */
  readonly bootCpuMs: number;
  /** Background entries (no live request) not run because the background budget was spent. */
  readonly backgroundCancelled: number;
}

/** How often wall-time deadlines are checked; a late response is cut at most this much after its limit. */
const WALL_SWEEP_INTERVAL_MS = 25;
/** See AppIsolateOptions.inlineEntryThresholdMs. */
const DEFAULT_INLINE_ENTRY_THRESHOLD_MS = 1;
/** See onHeldAfterStop: shorter holds are the disposal's own latency. */
const HELD_AFTER_DISPOSE_NOTICE_MS = 10;
/** Live timers one isolate may hold. */
const MAX_TIMERS = 10_000;
/** Console lines kept per request (and for top-level code). */
const MAX_LOG_LINES = 1000;
/** Console levels a tenant may log at. */
const LOG_LEVELS: ReadonlySet<string> = new Set<LogLevel>(["debug", "log", "info", "warn", "error"]);
/**
 * Console output kept per request (and for work outside requests), in
 * characters: 1,000 lines of the longest message would be 16 MB of log
 * the host writes for one request.
 */
const MAX_LOG_CHARS_PER_REQUEST = 256 * 1024;
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
  readonly #fetchBodyLimitBytes: number;
  readonly #entries: EntryRunner<EntryOwner>;
  readonly #background: BackgroundBudget;
  #bootCpuMs = 0;
  #ownInlineVerdict = true;
  readonly #requests = new Map<string, RequestRecord>();
  /** Streamed request bodies the app may still read, by request id. */
  readonly #incomingBodies = new Map<string, RequestBodyStream>();
  /** Pulled response bodies still being read, by request id. */
  readonly #pulledBodies = new Map<string, PulledBody>();
  readonly #timers = new OwnedResources<RequestRecord>();
  readonly #fetches = new OwnedResources<RequestRecord>();
  /** Response bodies of finished fetches that stream, by call id. */
  readonly #fetchedBodies: FetchedBodies<RequestRecord>;
  readonly #hostMemory: HostMemoryBudget;
  readonly #hostWork: HostWorkBudget;
  readonly #digests: DigestJobs;
  readonly #crypto: CryptoJobs;
  #wallSweep: NodeJS.Timeout | undefined;
  #disposedBy: SandboxErrorCode | undefined;
  #catastrophic = false;
  #requestsServed = 0;

  private constructor(options: AppIsolateOptions) {
    this.appName = options.appName;
    this.#options = options;
    this.#isolate = new ivm.Isolate({
      memoryLimit: options.limits.memoryLimitMb,
      onCatastrophicError: (message) => this.#onCatastrophic(message),
    });
    this.#background = new BackgroundBudget(options.limits.backgroundCpuLimitMs);
    const policy = options.inlinePolicy;
    this.#entries = new EntryRunner<EntryOwner>({
      isolate: this.#isolate,
      scheduler: options.scheduler,
      inlineThresholdMs: options.inlineEntryThresholdMs ?? DEFAULT_INLINE_ENTRY_THRESHOLD_MS,
      inlineEntryGuard: options.inlineEntryGuard,
      appKey: options.appName,
      mayRunInline: policy ? () => policy.isAllowed(options.appName) : () => this.#ownInlineVerdict,
      onInlineOverrun: (entryMs) => this.#onInlineOverrun(entryMs),
      isCatastrophic: () => this.#catastrophic,
      onBreach: (owner, code, terminated) => this.#breach(owner, code, terminated),
      onInternalError: (error) => this.#internalError(error),
      onHeldAfterStop: (heldMs) => {
        // Disposal itself takes a moment; only an entry that kept its thread clearly longer is worth a word.
        if (heldMs < HELD_AFTER_DISPOSE_NOTICE_MS) return;
        this.#log("warn", "", `an entry kept running ${Math.round(heldMs)} ms after its isolate was disposed (an uninterruptible built-in); the app's next start waits for it`);
        options.onThreadHeldAfterDispose?.(heldMs);
      },
    });
    const hostMemory = options.hostMemory ?? new HostMemoryBudget(options.limits.memoryLimitMb * 1024 * 1024);
    this.#hostMemory = hostMemory;
    this.#hostWork = options.hostWork ?? new HostWorkBudget();
    this.#fetchedBodies = new FetchedBodies<RequestRecord>({
      enter: (owner, args, onDone) => this.#enter(owner, args, onDone),
      enterBackground: (args) => this.#enterBackground(args),
    });
    this.#fetchBodyLimitBytes = Math.min(DEFAULT_SUBREQUEST_BODY_LIMIT_BYTES, hostMemory.limitBytes);
    this.#fetcher = new OutboundFetcher({
      allowPrivate: options.allowPrivateFetch,
      allowHosts: options.outboundAllow,
      timeoutMs: options.limits.fetchTimeoutMs,
      maxResponseBytes: options.limits.subrequestResponseLimitBytes,
      maxRequestBodyBytes: this.#fetchBodyLimitBytes,
      hostMemory,
    });
    // Digest inputs the host holds count against the app: at most its memory limit at once.
    this.#digests = new DigestJobs({ maxInFlight: MAX_DIGESTS_IN_FLIGHT, maxBytesHeld: options.limits.memoryLimitMb * 1024 * 1024 });
    // WebCrypto: the same bound on input bytes held; keys are this isolate's alone.
    this.#crypto = new CryptoJobs({ maxInFlight: MAX_CRYPTO_IN_FLIGHT, maxBytesHeld: options.limits.memoryLimitMb * 1024 * 1024, maxKeys: MAX_CRYPTO_KEYS });
  }

  /**
   * Create the isolate, load the prelude and the app, and check its exports.
   * Rejects with SandboxError: STARTUP_TIMEOUT, STARTUP_FAILED,
   * NO_DEFAULT_EXPORT, NO_FETCH_HANDLER or MEMORY_LIMIT. Disposes on failure.
   */
  static async create(options: AppIsolateOptions): Promise<AppIsolate> {
    const app = new AppIsolate(options);
    try {
      // Compiling and evaluating an app runs on isolated-vm's pool like any
      // entry and can take up to its startup limit: it waits for a slot.
      await options.scheduler.run(() => app.#boot(), options.appName);
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
    // The app's text bindings go along, a copy, so that its code sees them from its first line (env, process.env, cloudflare:workers).
    await context.evalClosure(
      `globalThis.${HOST_GLOBAL} = { ${literal}, ${HOST_APP_ENV}: $${names.length} };`,
      [...names.map((name) => callbacks[name]), new ivm.ExternalCopy({ ...this.#options.env }).copyInto({ release: true })],
    );
    await warmPreludeCache();
    const prelude = await compileCached(this.#isolate, preludeSource(), PRELUDE_FILENAME, PRELUDE_CACHE_KEY);
    const dispatch = (await prelude.run(context, { reference: true, timeout: limits.startupLimitMs })) as ivm.Reference<
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
      verdict = await dispatch.apply(undefined, ["init", { responseLimitBytes: limits.responseLimitBytes }], {
        arguments: { copy: true },
        result: { copy: true },
        timeout: limits.startupLimitMs,
      });
    } catch (error) {
      throw this.#startupError(error);
    }
    if (verdict === "no_default_export") throw new SandboxError("EDGE_SANDBOX_NO_DEFAULT_EXPORT");
    if (verdict === "no_fetch_handler") throw new SandboxError("EDGE_SANDBOX_NO_FETCH_HANDLER");
    this.#bootCpuMs = Number(this.#isolate.cpuTime) / 1e6;
    this.#entries.start(dispatch);
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

  /** Why the isolate was disposed: a limit's code, or DISPOSED for a reload or shutdown; undefined while live. */
  get disposalReason(): SandboxErrorCode | undefined {
    return this.#disposedBy;
  }

  /** True once disposed (by a breach, a reload or shutdown). */
  get isDisposed(): boolean {
    return this.#disposedBy !== undefined;
  }

  /** True when this isolate's entries run on isolated-vm's thread pool, not inline (see EntryRunner.runsOnPool). */
  get entriesRunOnPool(): boolean {
    return this.#entries.runsOnPool;
  }

  /** Requests currently inside this isolate (including waitUntil work). */
  get inFlight(): number {
    return this.#requests.size;
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
    record.hopCount = inboundHopCount(request.headers);
    record.onWallTimeout = () => this.#abortInIsolate(record);
    record.onCpuCharged = request.onCpu;
    record.onAccounted = request.onAccounted;
    this.#startWallSweep();
    if (signal) {
      if (signal.aborted) {
        // The client is gone already: nothing to run for it.
        record.fail(new SandboxError("EDGE_SANDBOX_ABORTED"));
        record.drop();
        return record.response;
      } else {
        const onAbort = (): void => {
          record.fail(new SandboxError("EDGE_SANDBOX_ABORTED"));
          this.#abortInIsolate(record);
        };
        signal.onAbort(() => {
          if (!record.isDropped) onAbort();
        });
      }
    }
    if (isRequestBodyStream(request.body)) {
      this.#incomingBodies.set(request.id, request.body);
      this.#enter(record, ["request", request.id, request.method, request.url, request.headers, null, true]);
      return record.response;
    }
    const body = request.body === null ? null : bodyArgument(exactArrayBuffer(request.body));
    this.#enter(record, ["request", request.id, request.method, request.url, request.headers, body, false]);
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

  #enter(owner: RequestRecord, args: [string, ...unknown[]], onDone?: () => void): void {
    this.#entries.submit(owner, args, onDone);
  }

  /** Enter work that belongs to no live request, on the isolate's background budget. */
  #enterBackground(args: [string, ...unknown[]]): void {
    if (this.#background.isExhausted) {
      if (this.#background.noteCancelled() === 1) {
        this.#log("warn", "", `background work (no request) used its CPU budget of ${this.#options.limits.backgroundCpuLimitMs} ms; further background work is cancelled`);
      }
      return;
    }
    this.#entries.submit(this.#background, args);
  }

  /** An inline entry ran to or past its CPU budget: this app never runs inline again (InlinePolicy). */
  #onInlineOverrun(entryMs: number): void {
    this.#ownInlineVerdict = false;
    const policy = this.#options.inlinePolicy;
    if (policy === undefined || policy.isDemoted(this.appName)) return;
    policy.demote(this.appName, entryMs);
    this.#log("warn", "", `an entry ran ${entryMs.toFixed(0)} ms, to or past its CPU budget, on the front end's thread; this app's entries run on the isolate thread pool from now on`);
  }

  /**
   * A limit was breached by `owner`. A request fails with `code`, and the
   * isolate is disposed (everything else in it fails with DISPOSED). Spent
   * background budget only stops background work, unless the entry was cut
   * short mid-way (its state is then not to be trusted).
   */
  #breach(owner: EntryOwner, code: EntryBreach, terminated: boolean): void {
    if (this.#disposedBy !== undefined) return;
    // Failpoint (tests only): report the breach as V8's fatal OOM would, leaving the isolate unsettled.
    if (code === "EDGE_SANDBOX_MEMORY_LIMIT" && isFailpointOn("oom-catastrophic")) return this.#onCatastrophic("Catastrophic out-of-memory error (failpoint oom-catastrophic)");
    if (!(owner instanceof RequestRecord)) {
      if (code === "EDGE_SANDBOX_CPU_LIMIT" && !terminated) return;
      this.#log("warn", "", `background work: ${SandboxErrorCodeText(code)}; isolate recycled`);
      this.#disposeWith(code);
      return;
    }
    // A request the host already failed (its budget went into decoding its
    // subrequests): an entry of it that completed is no reason to recycle.
    if (!terminated && owner.isDropped) return;
    const { limits } = this.#options;
    const limit = code === "EDGE_SANDBOX_CPU_LIMIT" ? limits.cpuLimitMs : limits.memoryLimitMb;
    owner.fail(new SandboxError(code, undefined, { limit }));
    this.#log("warn", owner.id, `${SandboxErrorCodeText(code)}; isolate recycled`);
    this.#disposeWith(code);
  }

  /**
   * Decoding a content-encoded subrequest body is host CPU spent for the
   * request (a 64 KB gzip bomb is 64 MiB and ~80 ms of zlib): it is charged
   * to the request's CPU budget at DECODE_MS_PER_MIB. Past the budget the
   * request fails with cpu_limit; the isolate did nothing wrong and stays.
   * The same milliseconds go to the app's host-work rate, which paces the
   * next reads of every decoded body of the app (FetchedBodyOptions.readDelayMs),
   * so that an app cannot keep the event loop decoding by sending request
   * after request, each within its budget.
   */
  #chargeDecoding(owner: RequestRecord, bytes: number): SandboxError | undefined {
    const hadBudget = owner.cpuRemainingMs > 0;
    const ms = (bytes / (1024 * 1024)) * DECODE_MS_PER_MIB;
    this.#hostWork.charge(ms);
    owner.chargeCpuNs(BigInt(Math.round(ms * 1e6)));
    if (owner.cpuRemainingMs > 0) return undefined;
    const limit = this.#options.limits.cpuLimitMs;
    const error = new SandboxError("EDGE_SANDBOX_CPU_LIMIT", `decoding subrequest response bodies used up the request's CPU budget of ${limit} ms`, { limit });
    // Said once; a response already under way (a passed-on body) is cut instead.
    if (hadBudget) this.#log("warn", owner.id, error.message);
    owner.fail(error);
    // Nothing more runs for it: entering the isolate on a spent budget would be a breach that recycles it.
    owner.drop();
    return error;
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

  /**
   * One console call from the isolate: one single-line record. Every
   * argument is the tenant's word: the level must be a known one, the
   * request id counts only if it names a live request of this isolate (else
   * the record is the isolate's, ""), the app name is ours, and the message
   * has its control characters escaped here, line breaks included, so no
   * console text can print as a second record.
   */
  log(level: LogLevel, requestId: string, message: string): void {
    const record = typeof requestId === "string" ? this.#requests.get(requestId) : undefined;
    const id = record?.id ?? "";
    // Writing logs costs the host's thread, not the isolate's CPU budget:
    // cap lines per request (and for top-level code) so a console.log loop
    // cannot slow other tenants down.
    const counter = record ?? this;
    counter.logLines++;
    if (counter.logLines > MAX_LOG_LINES) {
      if (counter.logLines === MAX_LOG_LINES + 1) {
        this.#log("warn", id, `more than ${MAX_LOG_LINES} console lines; the rest are dropped`);
      }
      return;
    }
    const text = typeof message === "string" ? message : String(message);
    const kept = text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}… (truncated)` : text;
    counter.logChars += kept.length;
    if (counter.logChars > MAX_LOG_CHARS_PER_REQUEST) {
      // Past the line cap too from now on: no notice from it, nothing more kept.
      counter.logLines = MAX_LOG_LINES + 1;
      this.#log("warn", id, `more than ${MAX_LOG_CHARS_PER_REQUEST} characters of console output; the rest is dropped`);
      return;
    }
    this.#log(LOG_LEVELS.has(level) ? level : "log", id, escapeLogText(kept), "console");
  }

  /** Console lines and characters logged outside any request (top-level code). */
  logLines = 0;
  logChars = 0;
  /** Kinds of notice already logged outside any request (see #noticeOnce). */
  readonly #notices = new Set<string>();

  /**
   * A notice about something the app can repeat at will (a timer refused,
   * say): logged once per request and kind, or once per isolate and kind
   * outside requests, so that a loop cannot make the host write line after
   * line.
   */
  #noticeOnce(owner: RequestRecord | undefined, kind: string, message: string): void {
    const seen = owner === undefined ? this.#notices : (owner.notices ??= new Set<string>());
    if (seen.has(kind)) return;
    seen.add(kind);
    this.#log("warn", owner?.id ?? "", message);
  }

  respond(requestId: string, status: number, statusText: string, headers: FlatHeaders, body: WireBody, finished: boolean, pulledLength: unknown): void {
    const record = this.#requests.get(String(requestId));
    if (!record) return;
    // Before succeed(): a request that is over with its response is dropped at once, without a waitUntil timer.
    if (finished === true) record.markWaitUntilDone();
    if (!record.isSettled) {
      try {
        const response = validateWireResponse(status, statusText, headers, body, this.#options.limits.responseLimitBytes);
        const pulled = pulledLength === null ? undefined : this.#pulledBody(record, pulledLength);
        record.succeed(pulled === undefined ? response : { ...response, body: pulled });
        this.#requestsServed++;
      } catch (error) {
        record.fail(error as SandboxError);
      }
    }
  }

  respondWithFetchedBody(requestId: string, status: number, statusText: string, headers: FlatHeaders, finished: boolean, callId: unknown): void {
    const record = this.#requests.get(String(requestId));
    if (!record) return;
    if (finished === true) record.markWaitUntilDone();
    if (record.isSettled) return;
    const id = Number(callId);
    try {
      const response = validateWireResponse(status, statusText, headers, null, this.#options.limits.responseLimitBytes);
      const fetched = this.#fetchedBodies.takeForResponse(id, record);
      if (fetched === undefined) throw new SandboxError("EDGE_SANDBOX_BAD_RESPONSE", "app returned an invalid response: its body, a fetched body, is no longer available");
      const body = new DirectFetchedBody(fetched, {
        limitBytes: this.#options.limits.responseLimitBytes,
        onClose: () => {
          this.#fetchedBodies.forget(id, fetched);
          record.closeBody();
        },
        onFail: (error) => this.#log("warn", record.id, `response cut after its status was sent: ${error.message}`),
      });
      record.openBody();
      // Passed on as the host decoded it: the upstream's content-encoding no longer describes these bytes.
      const passedHeaders = fetched.decoded ? withoutHeader(response.headers, "content-encoding") : response.headers;
      record.succeed({ ...response, headers: passedHeaders, body });
      this.#requestsServed++;
    } catch (error) {
      record.fail(error as SandboxError);
    }
  }

  /** A response body the host reads from the isolate a chunk at a time (see PulledBody). */
  #pulledBody(record: RequestRecord, pulledLength: unknown): PulledBody {
    const limitBytes = this.#options.limits.responseLimitBytes;
    if (typeof pulledLength !== "number" || !Number.isSafeInteger(pulledLength) || pulledLength < -1) {
      throw new SandboxError("EDGE_SANDBOX_BAD_RESPONSE", "app returned an invalid response: bad body length");
    }
    if (pulledLength > limitBytes) {
      throw new SandboxError("EDGE_SANDBOX_RESPONSE_TOO_LARGE", `response body of ${pulledLength} bytes exceeds the limit of ${limitBytes} bytes`, { limit: limitBytes });
    }
    const id = record.id;
    const body = new PulledBody({
      length: pulledLength === -1 ? undefined : pulledLength,
      limitBytes,
      requestChunk: () => this.#enter(record, ["body-pull", id]),
      requestCancel: () => {
        if (this.#disposedBy === undefined) this.#enter(record, ["body-cancel", id]);
      },
      onClose: () => {
        this.#pulledBodies.delete(id);
        record.closeBody();
      },
      onFail: (error) => this.#log("warn", id, `response cut after its status was sent: ${error.message}`),
    });
    this.#pulledBodies.set(id, body);
    record.openBody();
    return body;
  }

  bodyChunk(requestId: string, chunk: unknown, done: unknown): void {
    this.#pulledBodies.get(String(requestId))?.deliver(chunk, done);
  }

  requestBodyPull(requestId: string): void {
    const id = String(requestId);
    const body = this.#incomingBodies.get(id);
    const record = this.#requests.get(id);
    if (body === undefined || record === undefined) return;
    body.read().then(
      (chunk) => {
        if (record.isDropped) return;
        if (chunk === null) {
          this.#incomingBodies.delete(id);
          this.#enter(record, ["body-data", id, null, "end", ""]);
        } else this.#enter(record, ["body-data", id, exactArrayBuffer(chunk), "data", ""]);
      },
      (error: unknown) => {
        this.#incomingBodies.delete(id);
        if (record.isDropped) return;
        const failure = error instanceof SandboxError ? error : new SandboxError("EDGE_SANDBOX_ABORTED");
        this.#enter(record, ["body-data", id, null, "error", failure.message]);
        // Past the body limit the client gets 413 (unless the app has answered already).
        if (failure.code === "EDGE_SANDBOX_BODY_TOO_LARGE") record.fail(failure);
      },
    );
  }

  requestBodyCancel(requestId: string): void {
    const id = String(requestId);
    this.#incomingBodies.get(id)?.cancel();
    this.#incomingBodies.delete(id);
  }

  fail(requestId: string, code: HandlerFailure, name: string, message: string, stack: string, finished: boolean): void {
    const record = this.#requests.get(String(requestId));
    if (!record) return;
    if (!record.isSettled) {
      const summary = `${String(name)}: ${String(message)}`.slice(0, MAX_LOG_CHARS);
      const errorCode = handlerFailureCode(code);
      const limit = errorCode === "EDGE_SANDBOX_MEMORY_LIMIT" ? this.#options.limits.memoryLimitMb
        : errorCode === "EDGE_SANDBOX_RESPONSE_TOO_LARGE" ? this.#options.limits.responseLimitBytes : undefined;
      const appStack = withoutPreludeFrames(String(stack)).slice(0, MAX_LOG_CHARS);
      record.fail(new SandboxError(errorCode, summary, limit === undefined ? { appStack } : { appStack, limit }));
    }
    if (finished === true) record.markWaitUntilDone();
  }

  waitUntilDone(requestId: string): void {
    this.#requests.get(String(requestId))?.markWaitUntilDone();
  }

  fetchStart(callId: number, requestId: string, method: unknown, url: unknown, headers: unknown, body: unknown, redirect?: unknown): void {
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
    const checked = validateOutboundRequest(method, url, headers, body, redirect, this.#fetchBodyLimitBytes);
    if (typeof checked === "string") {
      this.#deliverFetchError(owner, id, checked);
      return;
    }
    if (owner.hopCount >= MAX_FETCH_DEPTH) {
      this.#deliverFetchError(
        owner,
        id,
        `fetch refused: this request has already passed through edgehost ${owner.hopCount} times (CDN-Loop); subrequests stop at ${MAX_FETCH_DEPTH} hops so that apps fetching themselves end`,
      );
      return;
    }
    const controller = new AbortController();
    this.#fetches.add(id, owner, () => controller.abort());
    const request = { ...checked, headers: withLoopMarker(checked.headers, owner.hopCount) };
    const decoding = { charge: (bytes: number) => this.#chargeDecoding(owner, bytes), readDelayMs: () => this.#hostWork.waitMs() };
    this.#fetcher.fetch(request, controller.signal, decoding).then(
      (response) => {
        const release = (): void => response.reservation.releaseAll();
        if (!this.#fetches.settle(id) || owner.isDropped) {
          response.stream?.cancel();
          release();
          return;
        }
        const head = ["fetch-result", id, response.status, response.statusText, response.headers] as const;
        if (response.stream !== null) {
          // streams: the body follows as the app pulls it (host fetchBodyPull / dispatch "fetch-body").
          this.#fetchedBodies.add(id, owner, response.stream);
          this.#enter(owner, [...head, null, response.url, true]);
          return;
        }
        // The body stays reserved until the entry has copied it into the isolate.
        this.#enter(owner, [...head, response.body, response.url, false], release);
      },
      (error: unknown) => {
        if (!this.#fetches.settle(id) || owner.isDropped) return;
        this.#deliverFetchError(owner, id, error instanceof Error ? error.message : String(error));
      },
    );
  }

  #deliverFetchError(owner: RequestRecord | undefined, callId: number, message: string): void {
    // Delivered as an entry of its own, never synchronously inside the
    // isolate's call to us (an ignored callback cannot re-enter). With no
    // live request it is background work, on the budget that runs out.
    const args: [string, ...unknown[]] = ["fetch-error", callId, "TypeError", message];
    if (owner === undefined || owner.isDropped) this.#enterBackground(args);
    else this.#enter(owner, args);
  }

  fetchAbort(callId: number): void {
    this.#fetches.cancel(Number(callId));
  }

  fetchBodyPull(callId: number): void {
    this.#fetchedBodies.pull(callId);
  }

  fetchBodyCancel(callId: number): void {
    this.#fetchedBodies.cancel(callId);
  }

  timerStart(timerId: number, requestId: string, delayMs: number): void {
    const owner = this.#requests.get(String(requestId));
    const id = Number(timerId);
    if (!owner || owner.isDropped) {
      this.#noticeOnce(undefined, "timer-outside-request", "setTimeout outside a request is ignored (timers run only while a request is being handled)");
      return;
    }
    if (this.#timers.size >= MAX_TIMERS) {
      this.#noticeOnce(owner, "too-many-timers", `timer ignored: more than ${MAX_TIMERS} live timers`);
      return;
    }
    const delay = Math.min(Math.max(Number(delayMs) || 0, 0), 2_147_483_647);
    const handle = setTimeout(() => {
      this.#timers.settle(id);
      if (!owner.isDropped) this.#enter(owner, ["timer", id]);
    }, delay);
    this.#timers.add(id, owner, () => clearTimeout(handle));
  }

  timerClear(timerId: number): void {
    this.#timers.cancel(Number(timerId));
  }

  digestStart(callId: number, requestId: string, algorithm: string, data: ArrayBuffer): void {
    const owner = this.#requests.get(String(requestId));
    const id = Number(callId);
    if (!owner || owner.isDropped) {
      this.#deliverDigest(undefined, id, "no_request", null);
      return;
    }
    const job = this.#digests.start(algorithm, data);
    if (typeof job === "string") {
      this.#deliverDigest(owner, id, job, null);
      return;
    }
    job.then(
      (digest) => this.#deliverDigest(owner, id, "", digest),
      (error: unknown) => {
        this.#internalError(error);
        this.#deliverDigest(owner, id, "internal", null);
      },
    );
  }

  /**
   * Every digestStart gets its digest-result, even when its request is over
   * (then as "no_request"), so the prelude's count of digests in flight is
   * released. Delivered as an entry of its own, like fetch errors; with no
   * live request, on the background budget that runs out.
   */
  #deliverDigest(owner: RequestRecord | undefined, callId: number, code: "" | HostCallRefusal, digest: ArrayBuffer | null): void {
    if (this.#disposedBy !== undefined) return;
    if (owner === undefined || owner.isDropped) {
      this.#enterBackground(["digest-result", callId, code === "" ? "no_request" : code, null]);
      return;
    }
    this.#enter(owner, ["digest-result", callId, code, digest]);
  }

  // ---- WebCrypto ----

  /**
   * A crypto.subtle operation for request `requestId`, or for no request
   * (top-level code, or a request that is over): then its result is
   * background work, like a fetch error. Every call gets its crypto-result.
   */
  cryptoStart(callId: number, requestId: string, operation: unknown, args: unknown): void {
    const id = Number(callId);
    const owner = this.#requests.get(String(requestId));
    void this.#crypto.start(operation, args).then((outcome) => this.#deliverCrypto(owner, id, outcome));
  }

  /** A small HMAC, answered during the isolate's call (see webcrypto/hmac-sync.ts). */
  cryptoSync(operation: unknown, algorithmName: unknown, keyId: unknown, data: unknown, signature: unknown): ArrayBuffer | boolean | "async" {
    if (this.#disposedBy !== undefined) return "async";
    return this.#crypto.signSync(operation, algorithmName, keyId, data, signature);
  }

  #deliverCrypto(owner: RequestRecord | undefined, callId: number, outcome: CryptoOutcome): void {
    if (this.#disposedBy !== undefined) return;
    const args: [string, ...unknown[]] = "result" in outcome ? ["crypto-result", callId, "", "", outcome.result] : ["crypto-result", callId, outcome.error, outcome.message, null];
    if (owner === undefined || owner.isDropped) this.#enterBackground(args);
    else this.#enter(owner, args);
  }

  // ---- lifecycle ----

  /** A request's work is over (done, aborted or timed out): release what it holds. */
  #drop(record: RequestRecord): void {
    this.#requests.delete(record.id);
    // A body the app never read to its end: the rest is discarded.
    this.#incomingBodies.get(record.id)?.cancel();
    this.#incomingBodies.delete(record.id);
    this.#timers.cancelOwnedBy(record);
    this.#fetches.cancelOwnedBy(record);
    this.#fetchedBodies.cancelOwnedBy(record);
    // Failpoint (tests only): the probe of the app's host-memory account.
    if (isFailpointOn("host-memory-report")) {
      this.#log("info", record.id, `host memory: ${this.#hostMemory.usedBytes} bytes held, peak ${this.#hostMemory.peakBytes} bytes`);
    }
    // Failpoint (tests only): the probe of the app's host-work rate.
    if (isFailpointOn("host-work-report")) this.#log("info", record.id, `host work: ${this.#hostWork.chargedMs.toFixed(1)} ms charged`);
  }

  #disposedError(): SandboxError {
    return new SandboxError("EDGE_SANDBOX_DISPOSED");
  }

  #disposeWith(code: SandboxErrorCode): void {
    if (this.#disposedBy !== undefined) return;
    this.#disposedBy = code;
    // Bodies still streaming end with the isolate: the writer cuts those responses.
    for (const body of [...this.#pulledBodies.values()]) body.abort(this.#disposedError());
    for (const record of [...this.#requests.values()]) {
      record.fail(this.#disposedError());
      record.drop();
    }
    this.#timers.cancelAll();
    this.#fetches.cancelAll();
    this.#fetchedBodies.cancelAll();
    this.#crypto.dispose();
    this.#entries.stop();
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
  }

  /** Dispose the isolate now; requests still in it fail with DISPOSED. Idempotent. */
  dispose(): void {
    this.#disposeWith("EDGE_SANDBOX_DISPOSED");
  }

  /**
   * Dispose the isolate because the process is short of memory (the RSS
   * backstop chose it): its requests fail with MEMORY_LIMIT. Idempotent.
   */
  disposeForMemory(): void {
    if (this.#disposedBy !== undefined) return;
    for (const record of this.#requests.values()) {
      record.fail(new SandboxError("EDGE_SANDBOX_MEMORY_LIMIT", undefined, { limit: this.#options.limits.memoryLimitMb }));
    }
    this.#log("warn", "", "process memory backstop reached; this isolate was recycled");
    this.#disposeWith("EDGE_SANDBOX_MEMORY_LIMIT");
  }

  /** Heap bytes in use (V8 heap plus external memory such as ArrayBuffers), read on the isolate's thread; 0 once disposed. */
  async heapBytes(): Promise<number> {
    if (this.isDisposed) return 0;
    try {
      const heap = await this.#isolate.getHeapStatistics();
      return heap.used_heap_size + heap.externally_allocated_size;
    } catch {
      // Disposed while the statistics were on their way.
      return 0;
    }
  }

  /** Heap, CPU and request counters. Zeroes once disposed. */
  stats(): AppIsolateStats {
    const counters = { requestsServed: this.#requestsServed, bootCpuMs: this.#bootCpuMs, backgroundCancelled: this.#background.cancelled };
    if (this.isDisposed) return { heapUsedBytes: 0, cpuTimeMs: 0, inFlight: 0, ...counters };
    const heap = this.#isolate.getHeapStatisticsSync();
    return {
      heapUsedBytes: heap.used_heap_size + heap.externally_allocated_size,
      cpuTimeMs: Number(this.#isolate.cpuTime) / 1e6,
      inFlight: this.#requests.size,
      ...counters,
    };
  }

  #log(level: LogLevel, requestId: string, message: string, source?: "console"): void {
    this.#options.log({ level, appName: this.appName, requestId, message, ...(source === undefined ? {} : { source }) });
  }

  #internalError(error: unknown): void {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    this.#log("error", "", `internal sandbox error: ${text}`);
  }
}

/** The sandbox code for a failure the prelude reported (an unknown code is an app exception). */
function handlerFailureCode(code: unknown): SandboxErrorCode {
  switch (code) {
    case "bad_response":
      return "EDGE_SANDBOX_BAD_RESPONSE";
    case "memory":
      return "EDGE_SANDBOX_MEMORY_LIMIT";
    case "response_too_large":
      return "EDGE_SANDBOX_RESPONSE_TOO_LARGE";
    default:
      return "EDGE_SANDBOX_APP_EXCEPTION";
  }
}

function SandboxErrorCodeText(code: SandboxErrorCode): string {
  return new SandboxError(code).message;
}
