import { bundleApp, isLoaderError } from "../../loader/index.js";
import {
  type AppIsolate,
  HostMemoryBudget,
  HostWorkBudget,
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
import type { AppHost, AppHostOptions } from "../app-host.js";
import type { RequestHandler } from "../http-server.js";
import type { LogSink } from "../logger.js";
import { ConcurrencyGate } from "./concurrency-gate.js";
import { StaticAssets, type AssetResponse, type AssetSource } from "./static-assets.js";
import { VersionRunner, type BundleSource } from "./version-runner.js";
import { isCanaryKey, versionKeyOf } from "./version-affinity.js";

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

/** A version from the store that a tenant serves instead of the config's entry. */
export interface DeployedVersion {
  readonly id: string;
  readonly source: BundleSource;
}

/** A canary: `percent` of requests (0-100) go to `runner`, the rest to the active version. */
interface Canary {
  readonly runner: VersionRunner;
  readonly percent: number;
}

/**
 * One app in a multi-tenant front end: its concurrency gate, its static
 * files and the runners of the versions it serves: the active one and,
 * under a traffic split, a canary. Nothing is built at start-up (10,000
 * configured apps cost nothing until they get traffic); the warm cache may
 * evict the isolates between requests. A deploy swaps runners (see
 * {@link Tenant.promote}): requests inside the old version finish there,
 * new ones get the new one.
 */
export class Tenant implements RequestHandler, WarmIsolateOwner {
  readonly spec: TenantSpec;
  readonly #context: TenantContext;
  readonly #gate: ConcurrencyGate;
  readonly hostMemory: HostMemoryBudget;
  /** The app's host-work rate (decoding), one across every isolate, replica and version. */
  readonly #hostWork = new HostWorkBudget();
  /** The app's static files, if it has an assets dir: opened on the first lookup, not at start-up. */
  readonly assets: AssetSource | undefined;
  #openedAssets: Promise<StaticAssets> | undefined;
  #active: VersionRunner;
  #canary: Canary | undefined;
  /** Replaced or removed by a config reload: finishes what it has, joins the warm cache no more. */
  #retired = false;
  #requestsServed = 0;

  /** `deployed`: the store's active version, served instead of the config's entry. */
  constructor(spec: TenantSpec, context: TenantContext, deployed?: DeployedVersion) {
    this.spec = spec;
    this.#context = context;
    this.#gate = new ConcurrencyGate(spec.concurrency, spec.queue);
    // One account per app, as large as its memory limit, across every isolate and version it will ever have.
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
    this.#active = deployed === undefined ? this.#entryRunner() : this.runnerFor(deployed);
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
    return this.#runners().reduce((sum, runner) => sum + runner.inFlight, 0);
  }

  /** Isolate hosts serving this app now (every version's first one and its replicas). */
  get replicaCount(): number {
    return this.#runners().reduce((sum, runner) => sum + runner.hosts().length, 0);
  }

  /** The store version serving most requests, or null for the config's entry. */
  get activeVersionId(): string | null {
    return this.#active.versionId;
  }

  /** The traffic split in force, if any. */
  get split(): { readonly versionId: string | null; readonly percent: number } | undefined {
    return this.#canary === undefined ? undefined : { versionId: this.#canary.runner.versionId, percent: this.#canary.percent };
  }

  /** The canary's runner, under a traffic split. */
  get canaryRunner(): VersionRunner | undefined {
    return this.#canary?.runner;
  }

  /** The active version's first host, once a request or start() has made it. */
  get host(): AppHost | undefined {
    return this.#active.host;
  }

  #runners(): VersionRunner[] {
    return this.#canary === undefined ? [this.#active] : [this.#active, this.#canary.runner];
  }

  mapStack(stack: string): string {
    return this.#active.mapStack(stack);
  }

  async fetch(request: SandboxRequest, signal: CancelSignal): Promise<SandboxResponse> {
    const leave = await this.#gate.enter(signal);
    try {
      const host = await this.#runnerForRequest(request).pickHost();
      if (!this.#retired) this.#context.warm.touch(this.spec.name, this);
      // No await between picking the host and entering it: a deploy that
      // retires this runner drains from a timer, so it sees this request.
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
   * The version for one request: a request carrying a version key goes to
   * the side of the split its key hashes to (version-affinity.ts); any
   * other draws its own.
   */
  #runnerForRequest(request: SandboxRequest): VersionRunner {
    const canary = this.#canary;
    if (canary === undefined || canary.percent <= 0) return this.#active;
    const key = versionKeyOf(request.headers);
    const toCanary = key === undefined ? Math.random() * 100 < canary.percent : isCanaryKey(key, canary.runner.versionId, canary.percent);
    return toCanary ? canary.runner : this.#active;
  }

  /**
   * Build and boot the active version now rather than on the first request
   * (`run` reports a broken app at start). Rejects with the LoaderError of
   * a failed build or the SandboxError of a failed boot.
   */
  async start(): Promise<AppHost> {
    const host = await this.#active.start();
    this.#context.warm.touch(this.spec.name, this);
    return host;
  }

  /** A runner of this app for a stored version (not serving until promoted or made the canary). */
  runnerFor(version: DeployedVersion): VersionRunner {
    return new VersionRunner(version.id, version.source, this.#hostOptions(), this.spec.replicas ?? 1);
  }

  /**
   * Serve `runner` (booted by the caller) from now on. The runner it
   * replaces takes no new requests and is disposed once the ones inside it
   * have finished (bounded by the wall-time limit); a canary of the same
   * version becomes the active one.
   */
  promote(runner: VersionRunner): void {
    const previous = this.#active;
    this.#active = runner;
    if (this.#canary?.runner === runner) this.#canary = undefined;
    if (previous !== runner && this.#canary?.runner !== previous) this.#retireRunner(previous);
    if (!this.#retired) this.#context.warm.touch(this.spec.name, this);
  }

  /** Send `percent` of requests to `runner`; a canary it replaces is retired. */
  setCanary(runner: VersionRunner, percent: number): void {
    const previous = this.#canary?.runner;
    this.#canary = { runner, percent };
    if (previous !== undefined && previous !== runner) this.#retireRunner(previous);
  }

  /** End the traffic split; the canary's requests in flight finish. */
  clearCanary(): void {
    const previous = this.#canary?.runner;
    this.#canary = undefined;
    if (previous !== undefined) this.#retireRunner(previous);
  }

  /** Go back to the config's entry (the app's deployed versions were removed). */
  serveEntry(): void {
    this.clearCanary();
    this.promote(this.#entryRunner());
  }

  #retireRunner(runner: VersionRunner): void {
    void runner.drain(this.spec.limits.wallLimitMs);
  }

  /** The app's live isolates (for the memory backstop). */
  liveIsolates(): AppIsolate[] {
    return this.#runners().flatMap((runner) => runner.liveIsolates());
  }

  async sampleHeapBytes(): Promise<number> {
    const sizes = await Promise.all(this.#runners().map((runner) => runner.sampleHeapBytes()));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  }

  evict(): void {
    for (const runner of this.#runners()) runner.evict(this.spec.limits.wallLimitMs);
  }

  /** A reload replaced or removed this app: requests already here finish, nothing new arrives (see FrontEnd.apply). */
  retire(): void {
    this.#retired = true;
  }

  /** Wait (bounded) for requests and waitUntil work, then dispose. */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.all(this.#runners().map((runner) => runner.drain(timeoutMs)));
  }

  dispose(): void {
    for (const runner of this.#runners()) runner.dispose();
  }

  /** The runner of the config's entry, built from source on its first request. */
  #entryRunner(): VersionRunner {
    const source: BundleSource = {
      load: () => bundleApp(this.spec.entryPath),
      onFailure: (error) => {
        const message = isLoaderError(error) ? error.message : error instanceof Error ? error.message : String(error);
        this.#context.log({ level: "error", app: this.spec.name, message: `build failed: ${message}` });
      },
    };
    return new VersionRunner(null, source, this.#hostOptions(), this.spec.replicas ?? 1);
  }

  #hostOptions(): AppHostOptions {
    const context = this.#context;
    return {
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
      hostWork: this.#hostWork,
      ...(context.inlineEntryGuard ? { inlineEntryGuard: context.inlineEntryGuard } : {}),
      ...(context.inlinePolicy ? { inlinePolicy: context.inlinePolicy } : {}),
      ...(context.onColdStart ? { onColdStart: () => context.onColdStart?.(this.spec.name) } : {}),
    };
  }
}
