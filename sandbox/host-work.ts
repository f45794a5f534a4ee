/**
 * Host CPU one app may make the host spend on its behalf outside its
 * isolate, per second: decoding content-encoded subrequest bodies (and
 * whatever else the host does for it by the byte). Default 100 ms a second,
 * a tenth of a core.
 *
 * Why a rate and not only the per-request charge (measured on this 2-core
 * machine, Node 20, undici 6.29, a 64 KB gzip bomb decoding to 64 MiB):
 * when undici's fetch decoded in 16 KiB pieces, each through Node streams
 * and a web ReadableStream on the event loop, decoding cost about 1.1 ms of
 * *event-loop* time per MiB (event-loop utilisation 0.96 while ten bombs
 * decode); the host's own decoding (content-decoding.ts) still costs about
 * 0.6 ms. The per-request charge
 * (DECODE_MS_PER_MIB against the request's CPU budget) bounds one request,
 * but an app sending request after request kept the front end's event loop
 * busy with zlib for as long as it liked: the noisy-neighbour victim's p99
 * was 24-51x its p99 alone. Recycling the isolate on a decode breach
 * (so the boot backoff paces it) does not bound it either: an app that
 * decodes just under its budget per request never breaches.
 */
export const HOST_WORK_MS_PER_SECOND = 100;
/**
 * How much host work an idle app may spend at once before the rate applies,
 * ms: enough for one request to decode its whole CPU budget's worth without
 * waiting. Default 100 ms.
 */
export const HOST_WORK_BURST_MS = 100;

/** Options of a {@link HostWorkBudget}; for tests, which need other rates and a clock. */
export interface HostWorkBudgetOptions {
  /** Refill rate, ms of host work per second of wall time. Default HOST_WORK_MS_PER_SECOND. */
  readonly msPerSecond?: number;
  /** Largest balance, ms. Default HOST_WORK_BURST_MS. */
  readonly burstMs?: number;
  /** Milliseconds, monotonic. Default performance.now. */
  readonly now?: () => number;
}

/**
 * A token bucket of host CPU milliseconds for one app, shared by all its
 * isolates and surviving their recycles (the app's AppHost owns it, as it
 * owns its host-memory account). Work is charged after the fact, so the
 * balance can go below zero by the last piece charged; work that can wait
 * (the next read of a decoded body) asks `waitMs` first and waits that long.
 */
export class HostWorkBudget {
  readonly msPerSecond: number;
  readonly burstMs: number;
  readonly #now: () => number;
  #balanceMs: number;
  #updatedAt: number;
  #chargedMs = 0;

  constructor(options: HostWorkBudgetOptions = {}) {
    this.msPerSecond = options.msPerSecond ?? HOST_WORK_MS_PER_SECOND;
    this.burstMs = options.burstMs ?? HOST_WORK_BURST_MS;
    if (!(this.msPerSecond > 0) || !(this.burstMs > 0)) {
      throw new RangeError(`HostWorkBudget: msPerSecond and burstMs must be positive, got ${this.msPerSecond} and ${this.burstMs}`);
    }
    this.#now = options.now ?? (() => performance.now());
    this.#balanceMs = this.burstMs;
    this.#updatedAt = this.#now();
  }

  /** Host work charged since the budget was made, ms (for metrics and tests). */
  get chargedMs(): number {
    return this.#chargedMs;
  }

  /** Host work done for the app, `ms` (non-negative; anything else is ignored). */
  charge(ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms)) return;
    this.#refill();
    this.#balanceMs -= ms;
    this.#chargedMs += ms;
  }

  /** How long work that can wait should wait before it goes on, ms; 0 while the balance is positive. */
  waitMs(): number {
    this.#refill();
    if (this.#balanceMs > 0) return 0;
    // Until the balance is back above zero, and a little past it, so that the next piece of work does not wait again at once.
    return Math.ceil(((-this.#balanceMs + 1) * 1000) / this.msPerSecond);
  }

  #refill(): void {
    const now = this.#now();
    const elapsedMs = now - this.#updatedAt;
    this.#updatedAt = now;
    if (elapsedMs > 0) this.#balanceMs = Math.min(this.burstMs, this.#balanceMs + (elapsedMs * this.msPerSecond) / 1000);
  }
}
