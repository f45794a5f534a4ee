import { SandboxError } from "./errors.js";

/** Breach recycles allowed per window before boots are delayed. */
const FREE_RECYCLES = 3;
/** The window for FREE_RECYCLES, ms. */
const RECYCLE_WINDOW_MS = 10_000;
/** First delay; doubles with every further failure or recycle. */
const BASE_DELAY_MS = 100;
/** The longest delay between two boots. */
const MAX_DELAY_MS = 30_000;
/**
 * CPU an app burned past every budget (an uninterruptible entry still
 * running after its isolate was disposed) buys this many times as long
 * without a new start: such an app gets at most about a fifth of a core.
 */
const HELD_PENALTY_FACTOR = 4;

/**
 * Paces the cold starts of one app. A boot takes a scheduler slot and up to
 * the startup limit of CPU, so an app whose boots keep failing, or whose
 * isolates keep being recycled by limit breaches (on purpose or not), would
 * otherwise be handed a fresh boot per request at every other tenant's
 * expense. The first few recycles in a window are free; after that, and
 * after every failed boot, the next boot waits for a delay that doubles each
 * time (capped). Requests in the meantime are refused at once.
 */
export class BootThrottle {
  #failures = 0;
  #excessRecycles = 0;
  #recycles: number[] = [];
  #notBefore = 0;
  #lastFailure: SandboxError | undefined;

  /**
   * Undefined if a boot may start now; otherwise the error to refuse the
   * request with: the last boot failure while failures are backing off,
   * else RESTART_BACKOFF, both with `retryAfterMs`.
   */
  refusal(now: number = performance.now()): SandboxError | undefined {
    const waitMs = this.#notBefore - now;
    if (waitMs <= 0) return undefined;
    const retryAfterMs = Math.ceil(waitMs);
    const last = this.#lastFailure;
    if (last !== undefined) return new SandboxError(last.code, last.message, { ...last.details, retryAfterMs });
    return new SandboxError("EDGE_SANDBOX_RESTART_BACKOFF", `app restarts too often; next start in ${retryAfterMs} ms`, { retryAfterMs });
  }

  /** A boot failed with `error`. */
  bootFailed(error: SandboxError, now: number = performance.now()): void {
    this.#failures++;
    this.#lastFailure = error;
    this.#notBefore = now + backoffMs(this.#failures);
  }

  /** A boot succeeded: failures are forgiven (recycles are not). */
  bootSucceeded(): void {
    this.#failures = 0;
    this.#lastFailure = undefined;
  }

  /**
   * A disposed isolate's thread stayed busy `heldMs` after the breach (see
   * HELD_PENALTY_FACTOR). Counted only once the app is past its free
   * recycles: one slow disposal (a loaded machine stretches them too) costs
   * a well-behaved app nothing.
   */
  threadHeld(heldMs: number, now: number = performance.now()): void {
    if (!(heldMs > 0)) return;
    const recent = this.#recycles.filter((at) => now - at < RECYCLE_WINDOW_MS).length;
    if (recent < FREE_RECYCLES) return;
    this.#notBefore = Math.max(this.#notBefore, now + Math.min(MAX_DELAY_MS, heldMs * HELD_PENALTY_FACTOR));
  }

  /** The app's isolate was disposed by a limit breach. */
  recycled(now: number = performance.now()): void {
    this.#recycles = this.#recycles.filter((at) => now - at < RECYCLE_WINDOW_MS);
    this.#recycles.push(now);
    if (this.#recycles.length <= FREE_RECYCLES) {
      this.#excessRecycles = 0;
      return;
    }
    this.#excessRecycles++;
    this.#notBefore = Math.max(this.#notBefore, now + backoffMs(this.#excessRecycles));
  }
}

function backoffMs(count: number): number {
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(count - 1, 20));
}
