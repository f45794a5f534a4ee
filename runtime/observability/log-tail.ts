/**
 * Live log tails (`GET /apps/:name/tail`, `edgehost tail`): one fan-out per
 * front end, fed by its log sink and its request observer. Subscribers are
 * kept per app name, so a line of an app nobody tails costs one map lookup,
 * and a tail sees only its own app's records.
 */
import { Gauge, type Registry } from "prom-client";
import { isFailpointOn } from "../../sandbox/failpoints.js";
import type { LogLevel, LogSink } from "../logger.js";
import type { FinishedRequest, RequestObserver } from "../request-observer.js";

/** One log line of the app: its console output, or a line the host logged about it (a build failure, an exception's stack). */
export interface TailLogRecord {
  readonly type: "log";
  /** When the line reached the front end, ms since the epoch. */
  readonly time: number;
  readonly level: LogLevel;
  readonly message: string;
  /** The request it was logged in; absent for top-level code and host lines outside a request. */
  readonly requestId?: string;
  /** "console": the app's own console; "edgehost": the host's line about the app. */
  readonly source: "console" | "edgehost";
}

/**
 * One finished request of the app. Only these fields, never headers or the
 * query string (they carry cookies and tokens).
 */
export interface TailRequestRecord {
  readonly type: "request";
  /** When the response was done, ms since the epoch. */
  readonly time: number;
  readonly requestId: string;
  readonly method: string;
  /** Without the query. */
  readonly path: string;
  /** 499 when the client went away before a status was written. */
  readonly status: number;
  readonly durationMs: number;
  readonly cpuMs: number;
  /** The catalogued client error of an error reply (runtime/error-catalogue.ts). */
  readonly error?: string;
}

export type TailRecord = TailLogRecord | TailRequestRecord;

/** One live tail: a transport that buffers at most `TailLimits.bufferBytes` and drops past it (runtime/admin/event-stream-tail.ts). */
export interface TailSubscriber {
  /** Take one record. Never blocks and never throws: a subscriber that cannot keep up drops and counts. */
  deliver(record: TailRecord): void;
  /** Bytes held for this subscriber that its client has not taken yet. */
  readonly bufferedBytes: number;
}

export interface TailLimits {
  /** Live tails of one app at once. Default 8. */
  readonly perApp: number;
  /** Live tails of this front end at once. Default 64. */
  readonly total: number;
  /** Bytes one tail holds for a client that reads too slowly before it drops records. Default 256 KiB (16 KiB with the `tail-small-buffer` failpoint). */
  readonly bufferBytes: number;
}

export const DEFAULT_TAIL_LIMITS: TailLimits = {
  perApp: 8,
  total: 64,
  bufferBytes: isFailpointOn("tail-small-buffer") ? 16 * 1024 : 256 * 1024,
};

/** Longer host messages (stacks of deep recursion) are cut for the tail; console lines are already at most 16 K characters. */
const MAX_MESSAGE_CHARS = 16_384;

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * The fan-out. Bounds: at most `perApp` tails per app and `total` per
 * front end (each holding at most `bufferBytes`), so all tails together
 * hold at most `total * bufferBytes` plus one record each inside uWS.
 */
export class LogTail {
  readonly limits: TailLimits;
  readonly #byApp = new Map<string, Set<TailSubscriber>>();
  #total = 0;

  /** `registry`: where the `edgehost_tail_subscribers` and `edgehost_tail_buffered_bytes` gauges go (the front end's metrics). */
  constructor(options: { readonly limits?: Partial<TailLimits>; readonly registry?: Registry } = {}) {
    this.limits = { ...DEFAULT_TAIL_LIMITS, ...options.limits };
    const registry = options.registry;
    if (registry === undefined) return;
    const byApp = this.#byApp;
    new Gauge({
      name: "edgehost_tail_subscribers",
      help: "Live log tails (GET /apps/:name/tail) by app",
      labelNames: ["app"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [app, subscribers] of byApp) this.set({ app }, subscribers.size);
      },
    });
    new Gauge({
      name: "edgehost_tail_buffered_bytes",
      help: "Bytes held for log tails whose clients have not read them yet",
      registers: [registry],
      collect() {
        let bytes = 0;
        for (const subscribers of byApp.values()) for (const subscriber of subscribers) bytes += subscriber.bufferedBytes;
        this.set(bytes);
      },
    });
  }

  /** False when one more tail of `app` would pass a cap. */
  hasRoom(app: string): boolean {
    return this.#total < this.limits.total && (this.#byApp.get(app)?.size ?? 0) < this.limits.perApp;
  }

  /**
   * Send `app`'s records to `subscriber` from now on. Returns the function
   * that ends the subscription (safe to call twice), or "limit" when a cap
   * is reached (nothing is subscribed then).
   */
  subscribe(app: string, subscriber: TailSubscriber): (() => void) | "limit" {
    if (!this.hasRoom(app)) return "limit";
    let subscribers = this.#byApp.get(app);
    if (subscribers === undefined) this.#byApp.set(app, (subscribers = new Set()));
    subscribers.add(subscriber);
    this.#total++;
    const set = subscribers;
    return () => {
      if (!set.delete(subscriber)) return;
      this.#total--;
      // An app nobody tails has no entry, so its lines cost a failed lookup only.
      if (set.size === 0 && this.#byApp.get(app) === set) this.#byApp.delete(app);
    };
  }

  /** Live tails of `app`, or of every app. */
  subscriberCount(app?: string): number {
    return app === undefined ? this.#total : (this.#byApp.get(app)?.size ?? 0);
  }

  /** `inner` that also offers every line naming an app to that app's tails. */
  sink(inner: LogSink): LogSink {
    return (line) => {
      inner(line);
      if (line.app === undefined || this.#total === 0) return;
      const subscribers = this.#byApp.get(line.app);
      if (subscribers === undefined) return;
      const message = line.message.length > MAX_MESSAGE_CHARS ? `${line.message.slice(0, MAX_MESSAGE_CHARS)}… (truncated)` : line.message;
      this.#deliver(subscribers, {
        type: "log",
        time: Date.now(),
        level: line.level,
        message,
        ...(line.requestId ? { requestId: line.requestId } : {}),
        source: line.source === "console" ? "console" : "edgehost",
      });
    };
  }

  /** The request-observer half: one record per finished request of a tailed app. */
  readonly observer: RequestObserver = {
    cpu: () => undefined,
    finished: (request: FinishedRequest) => {
      if (request.app === undefined || this.#total === 0) return;
      const subscribers = this.#byApp.get(request.app);
      if (subscribers === undefined) return;
      // Field by field: a field added to FinishedRequest must not reach a tail by accident.
      this.#deliver(subscribers, {
        type: "request",
        time: Date.now(),
        requestId: request.requestId,
        method: request.method,
        path: request.path,
        status: request.status,
        durationMs: round(request.durationMs),
        cpuMs: round(request.cpuMs),
        ...(request.error === undefined ? {} : { error: request.error }),
      });
    },
  };

  #deliver(subscribers: ReadonlySet<TailSubscriber>, record: TailRecord): void {
    for (const subscriber of subscribers) subscriber.deliver(record);
  }
}
