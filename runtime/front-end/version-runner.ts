import type { AppBundle } from "../../loader/index.js";
import { SandboxError, type AppIsolate } from "../../sandbox/index.js";
import { AppHost, type AppHostOptions } from "../app-host.js";

/** Where a runner's bundle comes from: built from the config's entry, or loaded from the version store. */
export interface BundleSource {
  /** Makes the bundle; called again after a failure, at most every {@link BUILD_RETRY_MS}. */
  load(): Promise<AppBundle>;
  /** Told of a failed load (the tenant logs it), with the loader's or store's own error. */
  onFailure(error: unknown): void;
}

/** A failed build is retried on a request at most this often. */
const BUILD_RETRY_MS = 5000;

/**
 * The isolates of one version of one app: its bundle (made on the first
 * request, not at start-up) and its AppHost, plus replicas for a hot app. A
 * tenant holds one runner per version it serves (the active one and, under a
 * traffic split, the canary); a deploy starts a new runner and swaps it in
 * once it has booted, while requests inside the old one finish there.
 */
export class VersionRunner {
  /** The version this runner serves, or null for the config's entry. */
  readonly versionId: string | null;
  readonly #source: BundleSource;
  readonly #hostOptions: AppHostOptions;
  readonly #maxReplicas: number;
  #bundle: Promise<AppBundle> | undefined;
  #loadFailedAt = 0;
  /** The loader's (or store's) own error from the last failed load (start() reports it as is). */
  #loadError: unknown;
  #host: AppHost | undefined;
  /** Further isolates of a hot app, beyond #host (see pickHost). */
  readonly #replicas: AppHost[] = [];

  constructor(versionId: string | null, source: BundleSource, hostOptions: AppHostOptions, maxReplicas: number) {
    this.versionId = versionId;
    this.#source = source;
    this.#hostOptions = hostOptions;
    this.#maxReplicas = Math.max(1, maxReplicas);
  }

  /** The first host, once a request or start() has made it. */
  get host(): AppHost | undefined {
    return this.#host;
  }

  get inFlight(): number {
    return this.hosts().reduce((sum, host) => sum + host.inFlight, 0);
  }

  hosts(): AppHost[] {
    return this.#host === undefined ? [] : [this.#host, ...this.#replicas];
  }

  mapStack(stack: string): string {
    return this.#host?.bundle.mapStack(stack) ?? stack;
  }

  /**
   * The host for the next request: the one with the fewest requests inside.
   * When even that one is busy and the app may have more replicas, one more
   * is made (it boots on the request it gets), so a hot app whose entries
   * run on the thread pool can use more than one core. Replicas go when
   * the warm cache lets the app go.
   */
  async pickHost(): Promise<AppHost> {
    const first = this.#host ?? (await this.#createHost());
    let least = first;
    for (const replica of this.#replicas) if (replica.inFlight < least.inFlight) least = replica;
    // Only for an app whose entries run on the thread pool: a second isolate gains an inline app nothing.
    if (!least.isBusyOnPool || this.#replicas.length + 1 >= this.#maxReplicas) return least;
    const replica = new AppHost(first.bundle, this.#hostOptions);
    this.#replicas.push(replica);
    return replica;
  }

  /**
   * Make the bundle and boot an isolate now (`run` at start, a deploy
   * before it takes traffic). Rejects with the loader's or store's error of
   * a failed load, or the SandboxError of a failed boot.
   */
  async start(): Promise<AppHost> {
    let host: AppHost;
    try {
      host = this.#host ?? (await this.#createHost(false));
    } catch (error) {
      throw this.#loadError ?? error;
    }
    await host.start();
    return host;
  }

  liveIsolates(): AppIsolate[] {
    return this.hosts().flatMap((host) => host.isolates);
  }

  async sampleHeapBytes(): Promise<number> {
    const sizes = await Promise.all(this.hosts().map((host) => host.sampleHeapBytes()));
    return sizes.reduce((sum, bytes) => sum + bytes, 0);
  }

  evict(drainMs: number): void {
    this.#host?.evict();
    // Replicas are disposed once idle and not remade until the app is hot again.
    for (const replica of this.#replicas.splice(0)) void replica.drain(drainMs);
  }

  /** Wait (bounded) for requests and waitUntil work, then dispose. */
  async drain(timeoutMs: number): Promise<void> {
    await Promise.all(this.hosts().map((host) => host.drain(timeoutMs)));
  }

  dispose(): void {
    for (const host of this.hosts()) host.dispose();
  }

  async #createHost(reportFailure = true): Promise<AppHost> {
    const bundle = await this.#load(reportFailure);
    // Another request may have created it while this one waited for the bundle.
    if (this.#host !== undefined) return this.#host;
    this.#host = new AppHost(bundle, this.#hostOptions);
    return this.#host;
  }

  /** The bundle, made once; a failed load answers 500 and is retried after a pause. */
  #load(reportFailure: boolean): Promise<AppBundle> {
    if (this.#bundle === undefined) {
      if (this.#loadFailedAt !== 0 && performance.now() - this.#loadFailedAt < BUILD_RETRY_MS) {
        return Promise.reject(new SandboxError("EDGE_SANDBOX_STARTUP_FAILED", "the app's last build failed; see the log", { retryAfterMs: BUILD_RETRY_MS }));
      }
      this.#bundle = this.#source.load().catch((error: unknown) => {
        this.#bundle = undefined;
        this.#loadFailedAt = performance.now();
        this.#loadError = error;
        // start() hands the error to its caller instead.
        if (reportFailure) this.#source.onFailure(error);
        throw new SandboxError("EDGE_SANDBOX_STARTUP_FAILED", "the app could not be built; see the log");
      });
    }
    return this.#bundle;
  }
}
