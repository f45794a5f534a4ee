import type { LogSink } from "./logger.js";

/** What the backstop needs of an isolate. */
export interface RecyclableIsolate {
  readonly appName: string;
  stats(): { readonly heapUsedBytes: number };
  /** Dispose now; its requests fail with memory_limit. */
  disposeForMemory(): void;
}

export interface RssBackstopOptions {
  /** Process RSS past which an isolate is recycled, bytes. */
  readonly limitBytes: number;
  /** The isolates that may be chosen. */
  readonly isolates: () => Iterable<RecyclableIsolate>;
  readonly log: LogSink;
  /** How often RSS is read, ms. Default 250. */
  readonly intervalMs?: number;
}

/** After recycling one isolate, give the memory time to go back before judging again. */
const COOL_DOWN_MS = 1000;

/**
 * The per-process memory backstop (DESIGN.md, "Limits"). An isolate's heap
 * limit is approximate (a hostile script can reach 2-3x it) and memory
 * outside V8's heap escapes it, so the process watches its own resident
 * set: past the limit, the isolate with the largest heap is disposed (its
 * requests answer 503 memory_limit; its app cold-starts on the next
 * request), one at a time, until the process is back under the limit.
 */
export class RssBackstop {
  readonly #options: RssBackstopOptions;
  #timer: NodeJS.Timeout | undefined;
  #quietUntil = 0;

  constructor(options: RssBackstopOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.check(), this.#options.intervalMs ?? 250);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look (the timer calls this); true if an isolate was recycled. */
  check(now: number = performance.now()): boolean {
    if (now < this.#quietUntil) return false;
    const rss = process.memoryUsage.rss();
    if (rss <= this.#options.limitBytes) return false;
    let largest: RecyclableIsolate | undefined;
    let largestBytes = -1;
    for (const isolate of this.#options.isolates()) {
      const bytes = isolate.stats().heapUsedBytes;
      if (bytes > largestBytes) {
        largest = isolate;
        largestBytes = bytes;
      }
    }
    if (largest === undefined) return false;
    this.#quietUntil = now + COOL_DOWN_MS;
    const mb = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MB`;
    this.#options.log({
      level: "warn",
      app: largest.appName,
      message: `process memory backstop: RSS ${mb(rss)} is over ${mb(this.#options.limitBytes)}; recycling the largest isolate (${mb(largestBytes)} heap)`,
    });
    largest.disposeForMemory();
    return true;
  }
}
