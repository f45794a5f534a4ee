import { SandboxError } from "./errors.js";
import type { SandboxResponse } from "./wire-response.js";

/**
 * The host-side state of one request inside an isolate: its CPU budget, its
 * subrequest count, its wall-time and waitUntil deadlines, and the promise
 * its caller awaits. The response settles once; the record is dropped (its
 * timers and fetches released) when the app's work for it is over.
 */
export class RequestRecord {
  readonly id: string;
  readonly response: Promise<SandboxResponse>;
  /** Console lines and characters this request has logged. */
  logLines = 0;
  logChars = 0;
  /** Kinds of sandbox notice already logged for this request (made on the first). */
  notices: Set<string> | undefined;
  /** Edgehost hops this request has been through, read by the host from its CDN-Loop headers (see cdn-loop.ts). */
  hopCount = 0;
  /** Called when the wall-time limit fires before a response. */
  onWallTimeout: (() => void) | undefined;
  /** Told of each CPU charge, ms (see SandboxRequest.onCpu). */
  onCpuCharged: ((ms: number) => void) | undefined;
  /** Told once, when the response has settled and none of the request's entries is running: the answer's CPU is all charged (see SandboxRequest.onAccounted). Not on drop: a request without waitUntil work is dropped as it settles, before the answering entry's charge. */
  onAccounted: (() => void) | undefined;
  #resolve!: (response: SandboxResponse) => void;
  #reject!: (error: SandboxError) => void;
  #settled = false;
  #dropped = false;
  #waitUntilDone = false;
  /** A pulled response body is still being read from the isolate. */
  #bodyOpen = false;
  #cpuBudgetNs: bigint;
  #cpuUsedNs = 0n;
  #subrequests = 0;
  /** performance.now() by which a response is due; Infinity for none. */
  readonly wallDeadline: number;
  #waitUntilTimer: NodeJS.Timeout | undefined;
  readonly #waitUntilLimitMs: number;
  readonly #wallLimitMs: number;
  readonly #onDrop: () => void;

  /**
   * @param cpuLimitMs CPU budget for all of this request's entries.
   * @param wallLimitMs time to a response; 0 = none.
   * @param waitUntilLimitMs how long waitUntil work may continue after the response.
   * @param onDrop releases the isolate-side resources of this request.
   */
  constructor(id: string, cpuLimitMs: number, wallLimitMs: number, waitUntilLimitMs: number, onDrop: () => void) {
    this.id = id;
    this.#cpuBudgetNs = BigInt(Math.round(cpuLimitMs * 1e6));
    this.#waitUntilLimitMs = waitUntilLimitMs;
    this.#onDrop = onDrop;
    this.response = new Promise<SandboxResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // The caller may have stopped listening (aborted); never let that turn
    // into an unhandled rejection.
    this.response.catch(() => undefined);
    this.#wallLimitMs = wallLimitMs;
    // Checked by the isolate's deadline sweep rather than a timer per
    // request: timers cost more than a small request's whole host side.
    this.wallDeadline = wallLimitMs > 0 ? performance.now() + wallLimitMs : Number.POSITIVE_INFINITY;
  }

  /** Fail with WALL_LIMIT if the response is overdue at `now`; true if it was. */
  checkWallDeadline(now: number): boolean {
    if (this.#settled || now < this.wallDeadline) return false;
    const limit = this.#wallLimitMs;
    this.fail(new SandboxError("EDGE_SANDBOX_WALL_LIMIT", `no response within ${limit} ms`, { limit }));
    this.onWallTimeout?.();
    return true;
  }

  get isSettled(): boolean {
    return this.#settled;
  }

  get isDropped(): boolean {
    return this.#dropped;
  }

  /** CPU budget left, in milliseconds (may be negative after a breach). */
  get cpuRemainingMs(): number {
    return Number(this.#cpuBudgetNs - this.#cpuUsedNs) / 1e6;
  }

  chargeCpuNs(ns: bigint): void {
    this.#cpuUsedNs += ns;
    this.onCpuCharged?.(Number(ns) / 1e6);
  }

  /** Entries of this request running now (the runner reports each start and end). */
  #entriesRunning = 0;

  entryStarted(): void {
    this.#entriesRunning++;
  }

  /** An entry of this request is over, its CPU charged or the entry failed. */
  entryEnded(): void {
    this.#entriesRunning--;
    this.#tellIfAccounted();
  }

  /** The response may settle inside the answering entry (told when it ends) or, a pooled one's reply reaching the event loop late, after it (told now). */
  #tellIfAccounted(): void {
    if (!this.#settled || this.#entriesRunning > 0) return;
    const told = this.onAccounted;
    this.onAccounted = undefined;
    told?.();
  }

  /** Count one subrequest; false if that would exceed `limit`. */
  takeSubrequest(limit: number): boolean {
    if (this.#subrequests >= limit) return false;
    this.#subrequests++;
    return true;
  }

  succeed(response: SandboxResponse): void {
    if (this.#settle()) this.#resolve(response);
  }

  fail(error: SandboxError): void {
    if (this.#settle()) this.#reject(error);
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#afterResponse();
    this.#tellIfAccounted();
    return true;
  }

  /**
   * The response is out (or the app's part of it is): drop the request once
   * its waitUntil work is done, or past the waitUntil limit. While a pulled
   * body is still streaming the request lives on: the body's pulls run in
   * it, paced by the client, within its CPU budget.
   */
  #afterResponse(): void {
    if (!this.#settled || this.#bodyOpen || this.#dropped) return;
    if (this.#waitUntilDone) this.drop();
    else this.#waitUntilTimer ??= setTimeout(() => this.drop(), this.#waitUntilLimitMs);
  }

  /** The prelude reports every waitUntil promise settled. */
  markWaitUntilDone(): void {
    this.#waitUntilDone = true;
    this.#afterResponse();
  }

  /** A pulled response body starts: keep the request until closeBody(). Call before succeed(). */
  openBody(): void {
    this.#bodyOpen = true;
  }

  /** The pulled response body ended, failed or was cancelled. */
  closeBody(): void {
    this.#bodyOpen = false;
    this.#afterResponse();
  }

  /** Release everything this request holds. Idempotent. */
  drop(): void {
    if (this.#dropped) return;
    this.#dropped = true;
    clearTimeout(this.#waitUntilTimer);
    this.#onDrop();
  }
}
