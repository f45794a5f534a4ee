/**
 * Host bytes held on behalf of one app: subrequest bodies being sent or
 * buffered, and (through the same account) request and response bodies.
 * V8's isolate limit only sees the isolate's heap; whatever the host holds
 * for a tenant outside it must be counted here, so that one app cannot grow
 * the process by asking the host to buffer for it.
 *
 * The account is plain bookkeeping: callers reserve before they allocate or
 * keep bytes, and release once the bytes are gone (handed into the isolate,
 * written out, or dropped on failure).
 */
export class HostMemoryBudget {
  /** The most bytes that may be reserved at once. */
  readonly limitBytes: number;
  #usedBytes = 0;
  #peakBytes = 0;

  /** @param limitBytes the account's size in bytes; a non-negative integer. */
  constructor(limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`HostMemoryBudget: limitBytes must be a non-negative integer, got ${limitBytes}`);
    }
    this.limitBytes = limitBytes;
  }

  /** Bytes reserved now. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** The most bytes that were reserved at once since the account was made (for metrics and tests). */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  /**
   * Reserve `bytes` (a non-negative integer). True if they fit within the
   * limit and are now counted; false (nothing reserved) otherwise.
   */
  tryReserve(bytes: number): boolean {
    if (!Number.isSafeInteger(bytes) || bytes < 0) return false;
    if (bytes > this.limitBytes - this.#usedBytes) return false;
    this.#usedBytes += bytes;
    if (this.#usedBytes > this.#peakBytes) this.#peakBytes = this.#usedBytes;
    return true;
  }

  /** Give back `bytes` reserved earlier. Releasing more than is reserved clamps at zero. */
  release(bytes: number): void {
    if (!Number.isFinite(bytes) || bytes <= 0) return;
    this.#usedBytes = Math.max(0, this.#usedBytes - bytes);
  }

  /** A reservation that grows in steps and is released once, whole. */
  open(): HostMemoryReservation {
    return new HostMemoryReservation(this);
  }
}

/**
 * The bytes one piece of work (one subrequest, one body) holds in a
 * {@link HostMemoryBudget}. `releaseAll` is idempotent, so both the success
 * path and every failure path may call it.
 */
export class HostMemoryReservation {
  readonly #budget: HostMemoryBudget;
  #heldBytes = 0;
  #closed = false;

  constructor(budget: HostMemoryBudget) {
    this.#budget = budget;
  }

  /** Bytes this reservation holds. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Reserve `bytes` more; false (nothing more reserved) if the budget is full or this was released. */
  grow(bytes: number): boolean {
    if (this.#closed || !this.#budget.tryReserve(bytes)) return false;
    this.#heldBytes += bytes;
    return true;
  }

  /** Give back `bytes` of what this reservation holds (at most all of it). */
  shrink(bytes: number): void {
    const amount = Math.min(Math.max(0, bytes), this.#heldBytes);
    this.#heldBytes -= amount;
    this.#budget.release(amount);
  }

  /** Give everything back; later `grow` calls fail. */
  releaseAll(): void {
    this.#closed = true;
    this.shrink(this.#heldBytes);
  }
}
