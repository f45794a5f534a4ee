import { LRUCache } from "lru-cache";

/** What the cache keeps warm: one app's isolate(s), which it can let go. */
export interface WarmIsolateOwner {
  /** Requests (and waitUntil work) inside the owner's isolates now. */
  readonly inFlight: number;
  /** Heap bytes of the owner's isolates, sampled off the event loop (0 when cold). */
  sampleHeapBytes(): Promise<number>;
  /** Let the isolates go: each is disposed once the requests inside it are done; the next request starts a new one. */
  evict(): void;
}

export interface WarmIsolatesOptions {
  /** Warm owners at most; the least recently used one is evicted past it. */
  readonly maxIsolates: number;
  /** Total sampled heap at most; least recently used owners are evicted until under it. */
  readonly maxMemoryBytes: number;
  /** An owner with no request for this long is evicted. */
  readonly idleTtlMs: number;
  /** How often heaps are sampled and idle owners swept. Default 2 s. */
  readonly sweepIntervalMs?: number;
  /** Told of every eviction (for metrics and logs). */
  readonly onEvict?: (key: string, reason: WarmEvictionReason) => void;
}

export type WarmEvictionReason = "count" | "memory" | "idle" | "removed";

interface Slot {
  readonly owner: WarmIsolateOwner;
  heapBytes: number;
  /** performance.now() of the last touch. */
  usedAt: number;
  /** Touched since its heap was last sampled: only then can it have grown (or it has requests inside). */
  isDirty: boolean;
}

/**
 * Heaps sampled at once during a sweep. Each sample is a hop to the
 * isolate's thread and back; 1,000 at once came back as one burst of
 * callbacks that held the front end's thread for tens of ms every sweep
 * (a paced Zipf load over 1,000 tenants: p99 41-89 ms, 8-9 ms without the
 * sweep). A few at a time, requests are served in between.
 */
const SAMPLES_IN_FLIGHT = 4;

/**
 * The warm isolates of a front end (DESIGN.md: "warm isolate cache"), kept
 * in an LRU bounded three ways: by count, by the total of the isolates'
 * heaps (sampled every sweep, since heaps grow between requests), and by
 * idle time. Nothing is built eagerly: an app enters the cache when its
 * first request starts an isolate. Eviction disposes, but never under a
 * request: an owner with requests inside keeps its isolate until they are
 * done (AppHost retires it), so eviction only decides that no new request
 * will use it.
 */
export class WarmIsolates {
  readonly #options: WarmIsolatesOptions;
  readonly #lru: LRUCache<string, Slot>;
  #reason: WarmEvictionReason = "count";
  #sweep: NodeJS.Timeout | undefined;
  #sweeping = false;

  constructor(options: WarmIsolatesOptions) {
    this.#options = options;
    this.#lru = new LRUCache<string, Slot>({
      max: Math.max(1, options.maxIsolates),
      // Idle time is kept per slot and checked by the sweep (lru-cache's own
      // ttl would evict a stale app at the very request that finds it warm).
      dispose: (slot, key) => {
        slot.owner.evict();
        this.#options.onEvict?.(key, this.#reason);
        this.#reason = "count";
      },
    });
  }

  /** Start the periodic sweep (heap sampling, idle eviction); unref'd. */
  start(): void {
    this.#sweep ??= setInterval(() => void this.sweep(), this.#options.sweepIntervalMs ?? 2000);
    this.#sweep.unref();
  }

  stop(): void {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** `owner` (app `key`) just served or is about to serve a request: it is the most recently used. */
  touch(key: string, owner: WarmIsolateOwner): void {
    const slot = this.#lru.get(key);
    if (slot !== undefined && slot.owner === owner) {
      slot.usedAt = performance.now();
      slot.isDirty = true;
      return;
    }
    this.#reason = "count";
    this.#lru.set(key, { owner, heapBytes: 0, usedAt: performance.now(), isDirty: true });
  }

  /** Forget `key` (app removed): its isolates are let go. */
  remove(key: string): void {
    this.#reason = "removed";
    this.#lru.delete(key);
    this.#reason = "count";
  }

  get size(): number {
    return this.#lru.size;
  }

  /** Sum of the last sampled heaps. */
  get heapBytes(): number {
    let total = 0;
    for (const slot of this.#lru.values()) total += slot.heapBytes;
    return total;
  }

  has(key: string): boolean {
    return this.#lru.has(key);
  }

  /**
   * Evict idle owners, sample the heaps that may have changed (owners
   * touched since their last sample or with requests inside; a heap with no
   * entry since cannot have grown), a few at a time, then evict least
   * recently used owners while the total is over the memory bound (never the
   * most recent one, and owners with requests inside are skipped: they are
   * busy, not cold).
   */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const idleSince = performance.now() - this.#options.idleTtlMs;
      for (const [key, slot] of [...this.#lru.entries()]) {
        if (slot.usedAt > idleSince || slot.owner.inFlight > 0) continue;
        this.#reason = "idle";
        this.#lru.delete(key);
        this.#reason = "count";
      }
      const due: Slot[] = [];
      for (const slot of this.#lru.values()) if (slot.isDirty || slot.owner.inFlight > 0) due.push(slot);
      const sampleNext = async (): Promise<void> => {
        for (let slot = due.pop(); slot !== undefined; slot = due.pop()) {
          // Cleared first: a touch while the sample is on its way marks it for the next sweep.
          slot.isDirty = false;
          slot.heapBytes = await slot.owner.sampleHeapBytes().catch(() => 0);
        }
      };
      await Promise.all(Array.from({ length: SAMPLES_IN_FLIGHT }, sampleNext));
      let total = this.heapBytes;
      if (total <= this.#options.maxMemoryBytes) return;
      const newest = this.#lru.keys().next().value;
      for (const key of [...this.#lru.rkeys()]) {
        if (total <= this.#options.maxMemoryBytes) break;
        const slot = this.#lru.peek(key);
        if (slot === undefined || key === newest || slot.owner.inFlight > 0) continue;
        total -= slot.heapBytes;
        this.#reason = "memory";
        this.#lru.delete(key);
        this.#reason = "count";
      }
    } finally {
      this.#sweeping = false;
    }
  }

  /** Let every owner go (shutdown). */
  clear(): void {
    this.#reason = "removed";
    this.#lru.clear();
    this.#reason = "count";
  }
}
