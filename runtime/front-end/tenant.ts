import { bundleApp, isLoaderError, type AppBundle } from "../../loader/index.js";
import {
  type AppIsolate,
  HostMemoryBudget,
  SandboxError,
  type CancelSignal,
  type EntryScheduler,
  type InlineEntryGuard,
  type InlinePolicy,
  type OutboundHostRule,
  type SandboxLimits,
  type SandboxRequest,
  type SandboxResponse,
  type WarmIsolateOwner,
  type WarmIsolates,
} from "../../sandbox/index.js";
import { AppHost } from "../app-host.js";
import type { RequestHandler } from "../http-server.js";
import type { LogSink } from "../logger.js";
import { ConcurrencyGate } from "./concurrency-gate.js";
import { StaticAssets, type AssetResponse, type AssetSource } from "./static-assets.js";

/** One hosted app as the front end runs it: everything resolved, nothing built yet. */
export interface TenantSpec {
  readonly name: string;
  /** Absolute path of the app's entry module. */
  readonly entryPath: string;
  /** Vars and secrets, as the app's `env`. */
  readonly env: Readonly<Record<string, string>>;
  readonly limits: SandboxLimits;
  readonly bodyLimitBytes: number;
  /** Requests inside the app at once, and how many more may wait. */
  readonly concurrency: number;
  readonly queue: number;
  readonly allowPrivateFetch: boolean;
  /** Hosts the app may fetch (`outbound.allow`); undefined = any public host. */
  readonly outboundAllow?: readonly OutboundHostRule[] | undefined;
  /** Rebuild and swap the isolate when a source file changes (`run --watch`). */
  readonly watch?: boolean;
  /** Absolute path of the app's static files, served by the front end before `fetch`. */
  readonly assetsDir?: string;
  /** Isolates a hot app may have at once (each with its own globals, as Workers apps may). Default 1. */
  readonly replicas?: number;
}

/** What every tenant of a front end shares. */
export interface TenantContext {
  readonly scheduler: EntryScheduler;
  readonly warm: WarmIsolates;
  readonly log: LogSink;
  readonly onCatastrophicError: (message: string) => void;
  readonly inlineEntryThresholdMs: number;
  readonly inlineEntryGuard?: InlineEntryGuard;
  readonly inlinePolicy?: InlinePolicy;
  /** Told when an app's isolate boots (metrics). */
  readonly onColdStart?: (app: string) => void;
}

/** A failed build is retried on a request at most this often. */
const BUILD_RETRY_MS = 5000;

/**
 * One app in a multi-tenant front end: its concurrency gate, its bundle
 * (built on its first request, not at start-up: 10,000 configured apps cost
 * nothing until they get traffic) and its AppHost, whose isolate the warm
 * cache may evict between requests.
 */
export class Tenant implements RequestHandler, WarmIsolateOwner {
  readonly spec: TenantSpec;
  readonly #context: TenantContext;
  readonly #gate: ConcurrencyGate;
  readonly hostMemory: HostMemoryBudget;
  /** The app's static files, if it has an assets dir: opened on the first lookup, not at start-up. */
  readonly assets: AssetSource | undefined;
  #openedAssets: Promise<StaticAssets> | undefined;
  #bundle: Promise<AppBundle> | undefined;
  #buildFailedAt = 0;
  /** The loader's own error from the last failed build (start() reports it as is). */
  #buildError: unknown;
  #host: AppHost | undefined;
  /** Further isolates of a hot app, beyond #host (see #pickHost). */
  readonly #replicas: AppHost[] = [];
  /** Replaced or removed by a config reload: finishes what it has, joins the warm cache no more. */
  #retired = false;
  #requestsServed = 0;

  constructor(spec: TenantSpec, context: TenantContext) {
    this.spec = spec;
    this.#context = context;
    this.#gate = new ConcurrencyGate(spec.concurrency, spec.queue);
    // One account per app, as large as its memory limit, across every isolate it will ever have.
    this.hostMemory = new HostMemoryBudget(spec.limits.memoryLimitMb * 1024 * 1024);
    const dir = spec.assetsDir;
    this.assets =
      dir === undefined
        ? undefined
        : {
            lookup: async (method: string, pathname: string, headers: readonly string[]): Promise<AssetResponse | undefined> => {
              this.#openedAssets ??= StaticAssets.open(dir);
              return (await this.#openedAssets).lookup(method, pathname, headers);
            },
          };
  }

  get appName(): string {
    return this.spec.name;
  }

  get bodyLimitBytes(): number {
    return this.spec.bodyLimitBytes;
  }

  /** Requests waiting for the concurrency gate. */
  get queued(): number {
    return this.#gate.queued;
  }

  /** Responses the app's fetch resolved to (not its exceptions, refusals or breaches). */
  get requestsServed(): number {
    return this.#requestsServed;
  }

  get inFlight(): number {
    return this.#hosts().reduce((sum, host) => sum + host.inFlight, 0);
  }

  /** Isolate hosts serving this app now (the first one and its replicas). */
  get replicaCount(): number {
    return this.#hosts().length;
  }

  #hosts(): AppHost[] {
    return this.#host === undefined ? [] : [this.#host, ...this.#replicas];
  }

  /**
   * The host for the next request: the one with the fewest requests inside.
   * When even that one is busy and the app may have more replicas, one more
   * is made (it boots on the request it gets), so a hot app whose entries
   * run on the thread pool can use more than one core. Replicas go when
   * the warm cache lets the app go.
   */
  async #pickHost(): Promise<AppHost> {
    const first = this.#host ?? (await this.#createHost());
    let least = first;
    for (const replica of this.#replicas) if (replica.inFlight < least.inFlight) least = replica;
    if (!least.isBusyOnPool || this.#replicas.length + 1 >= (this.spec.replicas ?? 1)) return least;
    const replica = this.#newHost(first.bundle);
    this.#replicas.push(replica);
    return replica;
  }

  /** The app's host, once its first request has built it. */
  get host(): AppHost | undefined {
    return this.#host;
  }

  mapStack(stack: string): string {
    return this.#host?.bundle.mapStack(stack) ?? stack;
  }

  async fetch(request: SandboxRequest, signal: CancelSignal): Promise<SandboxResponse> {
    const leave = await this.#gate.enter(signal);
    try {
      const host = await this.#pickHost();
      if (!this.#retired) this.#context.warm.touch(this.spec.name, this);
      const response = await host.fetch(request, signal);
      this.#requestsServed++;
      return response;
    } finally {
      // A streamed response body may still be flowing; the isolate's own
      // in-flight count covers it, the gate covers time inside fetch.
      leave();
    }
  }

  /**
   * Build and boot now rather than on the first request (`run` reports a
   * broken app at start). Rejects with the LoaderError of a failed build or
   * the SandboxError of a failed boot.
   */
  async start(): Promise<AppHost> {
    let host: AppHost;
    try {
      host = this.#host ?? (await this.#createHost(false));
    } catch (error) {
      throw this.#buildError ?? error;
    }
    await host.start();
    this.#context.warm.touch(this.spec.name, this);
    return host;
  }

  /** The app's live isolates (for the memory backstop). */
  liveIsolates(): AppIsolate[] {
    return this.#hosts().flatMap((host) => host.isolates);
  }

  async sampleHeapBytes(): Promise<number> {
    const sizes = await Promise.all(this.#hosts().map((host) => host.sampleHeapBytes()));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  }

  evict(): void {
    this.#host?.evict();
    // Replicas are disposed once idle and not remade until the app is hot again.
    for (const replica of this.#replicas.splice(0)) void replica.drain(this.spec.limits.wallLimitMs);
  }

  /** A reload replaced or removed this app: requests already here finish, nothing new arrives (see FrontEnd.apply). */
  retire(): void {
    this.#retired = true;
  }

  /** Wait (bounded) for requests and waitUntil work, then dispose. */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.all(this.#hosts().map((host) => host.drain(timeoutMs)));
  }

  dispose(): void {
    for (const host of this.#hosts()) host.dispose();
  }

  async #createHost(logBuildFailure = true): Promise<AppHost> {
    const bundle = await this.#build(logBuildFailure);
    // Another request may have created it while this one waited for the bundle.
    if (this.#host !== undefined) return this.#host;
    this.#host = this.#newHost(bundle);
    return this.#host;
  }

  #newHost(bundle: AppBundle): AppHost {
    const context = this.#context;
    return new AppHost(bundle, {
      appName: this.spec.name,
      env: this.spec.env,
      limits: this.spec.limits,
      allowPrivateFetch: this.spec.allowPrivateFetch,
      outboundAllow: this.spec.outboundAllow,
      scheduler: context.scheduler,
      log: context.log,
      onCatastrophicError: context.onCatastrophicError,
      inlineEntryThresholdMs: context.inlineEntryThresholdMs,
      hostMemory: this.hostMemory,
      ...(context.inlineEntryGuard ? { inlineEntryGuard: context.inlineEntryGuard } : {}),
      ...(context.inlinePolicy ? { inlinePolicy: context.inlinePolicy } : {}),
      ...(context.onColdStart ? { onColdStart: () => context.onColdStart?.(this.spec.name) } : {}),
    });
  }

  /** The app's bundle, built once; a failed build answers 500 and is retried after a pause. */
  #build(logFailure: boolean): Promise<AppBundle> {
    if (this.#bundle === undefined) {
      if (performance.now() - this.#buildFailedAt < BUILD_RETRY_MS && this.#buildFailedAt !== 0) {
        return Promise.reject(new SandboxError("EDGE_SANDBOX_STARTUP_FAILED", "the app's last build failed; see the log", { retryAfterMs: BUILD_RETRY_MS }));
      }
      this.#bundle = bundleApp(this.spec.entryPath).catch((error: unknown) => {
        this.#bundle = undefined;
        this.#buildFailedAt = performance.now();
        this.#buildError = error;
        const message = isLoaderError(error) ? error.message : error instanceof Error ? error.message : String(error);
        // start() hands the loader's error to its caller instead.
        if (logFailure) this.#context.log({ level: "error", app: this.spec.name, message: `build failed: ${message}` });
        throw new SandboxError("EDGE_SANDBOX_STARTUP_FAILED", "the app could not be built; see the log");
      });
    }
    return this.#bundle;
  }
}
