import type { AppBundle } from "../loader/index.js";
import { BUNDLE_FILENAME } from "../loader/index.js";
import {
  AppIsolate,
  type CancelSignal,
  type EntryScheduler,
  type InlineEntryGuard,
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
  readonly scheduler: EntryScheduler;
  readonly log: LogSink;
  readonly onCatastrophicError: (message: string) => void;
  /** See AppIsolateOptions.inlineEntryThresholdMs; 0 = never inline. */
  readonly inlineEntryThresholdMs: number;
  readonly inlineEntryGuard?: InlineEntryGuard;
}

/**
 * Keeps one app's warm isolate. A request finds the current isolate or
 * starts one (a cold start after a limit breach recycled the last); a new
 * bundle (`--watch`) starts a new isolate and swaps it in only once it has
 * booted, while requests already inside the old one finish there.
 */
export class AppHost {
  readonly #options: AppHostOptions;
  #bundle: AppBundle;
  #current: AppIsolate | undefined;
  #starting: Promise<AppIsolate> | undefined;
  #generation = 0;
  readonly #retired = new Set<AppIsolate>();

  constructor(bundle: AppBundle, options: AppHostOptions) {
    this.#bundle = bundle;
    this.#options = options;
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
    const isolate = this.#current !== undefined && !this.#current.isDisposed ? this.#current : await this.#isolate();
    return isolate.fetch(request, signal);
  }

  #isolate(): Promise<AppIsolate> {
    if (this.#current !== undefined && !this.#current.isDisposed) return Promise.resolve(this.#current);
    this.#starting ??= this.#boot(this.#bundle).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #boot(bundle: AppBundle): Promise<AppIsolate> {
    const generation = this.#generation;
    const isolate = await AppIsolate.create({
      appName: this.#options.appName,
      code: bundle.code,
      codeHash: bundle.hash,
      bundleFilename: BUNDLE_FILENAME,
      env: this.#options.env,
      limits: this.#options.limits,
      allowPrivateFetch: this.#options.allowPrivateFetch,
      scheduler: this.#options.scheduler,
      log: (entry) => this.#log(entry),
      onCatastrophicError: this.#options.onCatastrophicError,
      inlineEntryThresholdMs: this.#options.inlineEntryThresholdMs,
      ...(this.#options.inlineEntryGuard ? { inlineEntryGuard: this.#options.inlineEntryGuard } : {}),
    });
    // A reload raced this boot: the newer bundle wins, this one retires.
    if (generation !== this.#generation) {
      isolate.dispose();
      return this.#isolate();
    }
    this.#current = isolate;
    return isolate;
  }

  /**
   * Swap in a new bundle. The new isolate boots first (a broken edit keeps
   * the old version serving and rejects here); the old isolate is disposed
   * once its in-flight requests are done.
   */
  async reload(bundle: AppBundle): Promise<void> {
    this.#generation++;
    const previous = this.#current;
    this.#starting = undefined;
    this.#bundle = bundle;
    const next = await this.#boot(bundle);
    if (previous !== undefined && previous !== next) this.#retire(previous);
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

  /** Requests in flight across the current and retiring isolates. */
  get inFlight(): number {
    let count = this.#current?.inFlight ?? 0;
    for (const isolate of this.#retired) count += isolate.inFlight;
    return count;
  }

  /** The current isolate, if one is running (for stats and tests). */
  get currentIsolate(): AppIsolate | undefined {
    return this.#current;
  }

  /** Dispose every isolate of this app. */
  dispose(): void {
    this.#generation++;
    this.#current?.dispose();
    this.#current = undefined;
    for (const isolate of this.#retired) isolate.dispose();
    this.#retired.clear();
  }

  #log(entry: SandboxLogEntry): void {
    this.#options.log({ level: entry.level, app: entry.appName, requestId: entry.requestId, message: entry.message });
  }
}
