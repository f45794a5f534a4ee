import type { EntryOwner } from "./entry-runner.js";

/**
 * The CPU budget of an isolate's work that belongs to no request: results
 * delivered after their request is over (a refused `fetch` at top level or
 * after the response), and anything else entered with no live owner. Every
 * entry into an isolate is charged to something that runs out: a request's
 * own budget, or this one, which is per isolate and never refills. Past it,
 * background entries are not entered at all (cancelled and counted), so a
 * loop that re-arms itself from a failed fetch dies out instead of burning
 * a core on a fresh budget each time.
 */
export class BackgroundBudget implements EntryOwner {
  readonly #budgetNs: bigint;
  #usedNs = 0n;
  #cancelled = 0;

  /** @param cpuLimitMs CPU the isolate's background work may use in its lifetime. */
  constructor(cpuLimitMs: number) {
    this.#budgetNs = BigInt(Math.round(cpuLimitMs * 1e6));
  }

  get cpuRemainingMs(): number {
    return Number(this.#budgetNs - this.#usedNs) / 1e6;
  }

  chargeCpuNs(ns: bigint): void {
    this.#usedNs += ns;
  }

  /** True once the budget is spent. */
  get isExhausted(): boolean {
    return this.#usedNs >= this.#budgetNs;
  }

  /** Count one background entry that was not run. */
  noteCancelled(): number {
    return ++this.#cancelled;
  }

  /** Background entries cancelled so far. */
  get cancelled(): number {
    return this.#cancelled;
  }
}
