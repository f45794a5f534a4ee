import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { WarmEvictionReason } from "../../sandbox/index.js";
import type { ClientErrorName } from "../error-catalogue.js";
import type { FinishedRequest, RequestObserver } from "../request-observer.js";

/** Latency buckets, seconds: from a warm hello (under a millisecond) to the longest wall limits people set. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Limit breaches by the client error that reports them. */
const BREACH_KINDS: Partial<Record<ClientErrorName, string>> = {
  cpu_limit: "cpu",
  memory_limit: "memory",
  wall_time_limit: "wall",
  body_size_limit: "body",
  response_size_limit: "response_size",
  concurrency_limit: "concurrency",
  restart_backoff: "restart_backoff",
  startup_time_limit: "startup",
};

const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;
const EVICTION_REASONS: readonly WarmEvictionReason[] = ["count", "memory", "idle", "removed"];

/** The app label of requests that reached no app: never a value from the request (Host is the client's word). */
export const NO_APP = "";

/** What the gauges read at scrape time. */
export interface MetricsSource {
  /** Every app with its queue and in-flight counts. */
  apps(): Iterable<{ readonly appName: string; readonly queued: number; readonly inFlight: number }>;
  /** Live isolates in this process. */
  liveIsolates(): number;
  /** Sum of the warm cache's last sampled heaps, bytes. */
  sampledHeapBytes(): number;
}

function statusClass(status: number): string {
  return `${Math.min(5, Math.max(1, Math.floor(status / 100)))}xx`;
}

/**
 * One front end's Prometheus metrics, in a registry of its own (not
 * prom-client's global one: tests run several front ends in one process,
 * and nothing else in the process may add series behind our back).
 * The `app` label only ever takes configured app names (or NO_APP), so
 * cardinality is bounded by the config.
 */
export class FrontEndMetrics implements RequestObserver {
  readonly registry = new Registry();
  readonly #requests: Counter<"app" | "status_class">;
  readonly #latency: Histogram<"app">;
  readonly #cpu: Counter<"app">;
  readonly #breaches: Counter<"app" | "kind">;
  readonly #coldStarts: Counter<"app">;
  readonly #evictions: Counter<"app" | "reason">;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    this.#requests = new Counter({ name: "edgehost_requests_total", help: "Requests answered, by app and status class", labelNames: ["app", "status_class"], registers });
    this.#latency = new Histogram({ name: "edgehost_request_duration_seconds", help: "Time from request head to the response's last byte", labelNames: ["app"], buckets: LATENCY_BUCKETS, registers });
    // Milliseconds, not seconds: the unit of the cpuMs limits it is read against.
    this.#cpu = new Counter({ name: "edgehost_cpu_milliseconds_total", help: "Isolate CPU charged to requests (waitUntil work included)", labelNames: ["app"], registers });
    this.#breaches = new Counter({ name: "edgehost_limit_breaches_total", help: "Requests refused or cut by a limit, by kind", labelNames: ["app", "kind"], registers });
    this.#coldStarts = new Counter({ name: "edgehost_cold_starts_total", help: "Isolates booted for an app (first request, after an eviction or a breach)", labelNames: ["app"], registers });
    this.#evictions = new Counter({ name: "edgehost_evictions_total", help: "Apps let go by the warm-isolate cache, by reason", labelNames: ["app", "reason"], registers });
    new Gauge({
      name: "edgehost_queue_depth",
      help: "Requests waiting for an app's concurrency gate",
      labelNames: ["app"],
      registers,
      collect() {
        this.reset();
        for (const app of source.apps()) this.set({ app: app.appName }, app.queued);
      },
    });
    new Gauge({
      name: "edgehost_in_flight",
      help: "Requests inside an app's isolates (waitUntil work included)",
      labelNames: ["app"],
      registers,
      collect() {
        this.reset();
        for (const app of source.apps()) this.set({ app: app.appName }, app.inFlight);
      },
    });
    new Gauge({
      name: "edgehost_warm_isolates",
      help: "Live isolates in this front end",
      registers,
      collect() {
        this.set(source.liveIsolates());
      },
    });
    new Gauge({
      name: "edgehost_isolate_heap_bytes",
      help: "Heap in use by this front end's warm isolates (sum of the cache's last samples)",
      registers,
      collect() {
        this.set(source.sampledHeapBytes());
      },
    });
    // process_resident_memory_bytes (RSS), CPU, event-loop lag, GC, handles.
    collectDefaultMetrics({ register: this.registry });
  }

  // Labelled children, looked up once: prom-client hashes a labels object on every inc().
  readonly #cpuByApp = new Map<string, ReturnType<Counter<"app">["labels"]>>();
  readonly #requestsByAppClass = new Map<string, ReturnType<Counter<"app" | "status_class">["labels"]>>();
  readonly #latencyByApp = new Map<string, ReturnType<Histogram<"app">["labels"]>>();

  cpu(app: string, ms: number): void {
    let child = this.#cpuByApp.get(app);
    if (child === undefined) this.#cpuByApp.set(app, (child = this.#cpu.labels(app)));
    child.inc(ms);
  }

  finished(request: FinishedRequest): void {
    const app = request.app ?? NO_APP;
    const status = statusClass(request.status);
    const key = `${app}\u0000${status}`;
    let requests = this.#requestsByAppClass.get(key);
    if (requests === undefined) this.#requestsByAppClass.set(key, (requests = this.#requests.labels(app, status)));
    requests.inc();
    let latency = this.#latencyByApp.get(app);
    if (latency === undefined) this.#latencyByApp.set(app, (latency = this.#latency.labels(app)));
    latency.observe(request.durationMs / 1000);
    const kind = request.error === undefined ? undefined : BREACH_KINDS[request.error as ClientErrorName];
    if (kind !== undefined) this.#breaches.inc({ app, kind });
  }

  coldStart(app: string): void {
    this.#coldStarts.inc({ app });
  }

  evicted(app: string, reason: WarmEvictionReason): void {
    this.#evictions.inc({ app, reason });
  }

  /**
   * Drops every series of an app that is no longer served (removed through
   * the admin API or from the config file), so that apps coming and going
   * cannot grow the exposition without bound. A request of the app still
   * finishing may bring a series back; the next removal takes it again.
   */
  forget(app: string): void {
    this.#cpu.remove(app);
    this.#latency.remove(app);
    this.#coldStarts.remove(app);
    for (const statusClass of STATUS_CLASSES) this.#requests.remove(app, statusClass);
    for (const kind of Object.values(BREACH_KINDS)) this.#breaches.remove(app, kind);
    for (const reason of EVICTION_REASONS) this.#evictions.remove(app, reason);
    this.#cpuByApp.delete(app);
    this.#latencyByApp.delete(app);
    for (const key of this.#requestsByAppClass.keys()) if (key.startsWith(`${app}\u0000`)) this.#requestsByAppClass.delete(key);
  }

  /** The text exposition and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
