import { SandboxError } from "../../sandbox/index.js";

/** Gives a place back; call exactly once. */
export type LeaveGate = () => void;

/**
 * One app's concurrency limit: at most `limit` requests inside the app at
 * once, up to `queueLimit` more waiting in arrival order, and past that an
 * immediate refusal (503 `concurrency_limit` with `Retry-After`), so a
 * tenant flooded with requests holds a bounded amount of the front end's
 * memory and never delays another tenant's requests.
 */
export class ConcurrencyGate {
  readonly limit: number;
  readonly queueLimit: number;
  #inside = 0;
  readonly #waiting: Array<{ admit: (leave: LeaveGate) => void; reject: (error: SandboxError) => void }> = [];

  constructor(limit: number, queueLimit: number) {
    this.limit = Math.max(1, limit);
    this.queueLimit = Math.max(0, queueLimit);
  }

  get inside(): number {
    return this.#inside;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Resolve with a LeaveGate once admitted; reject at once with
   * SandboxError(TOO_MANY_REQUESTS) when the queue is full, or later if
   * `signal` says the client left while queued.
   */
  enter(signal?: { readonly aborted: boolean; onAbort(listener: () => void): void }): Promise<LeaveGate> {
    if (this.#inside < this.limit) {
      this.#inside++;
      return Promise.resolve(this.#leaver());
    }
    if (this.#waiting.length >= this.queueLimit) {
      return Promise.reject(new SandboxError("EDGE_SANDBOX_TOO_MANY_REQUESTS", undefined, { limit: this.limit, retryAfterMs: 1000 }));
    }
    return new Promise((admit, reject) => {
      const waiter = { admit, reject };
      this.#waiting.push(waiter);
      signal?.onAbort(() => {
        const index = this.#waiting.indexOf(waiter);
        if (index === -1) return;
        this.#waiting.splice(index, 1);
        reject(new SandboxError("EDGE_SANDBOX_ABORTED"));
      });
    });
  }

  #leaver(): LeaveGate {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.#waiting.shift();
      // The place passes straight to the next waiter, so the count never dips for a newcomer to take.
      if (next) next.admit(this.#leaver());
      else this.#inside--;
    };
  }
}
