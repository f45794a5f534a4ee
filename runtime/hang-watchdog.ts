import { Worker } from "node:worker_threads";
import type { InlineEntryGuard } from "../sandbox/index.js";

/** How often the watchdog thread looks. */
const CHECK_INTERVAL_MS = 100;

/** When the watchdog steps in, measured from an inline entry's own deadline. */
export interface HangWatchdogOptions {
  /**
   * Past this, the front end is reported stalled on `reportFd` (the
   * supervisor promotes the standby, and retires this process once it
   * answers again). Long enough that an uninterruptible built-in or a
   * loaded machine is the likely cause, not noise.
   */
  readonly stallGraceMs: number;
  /**
   * Past this, the main thread is taken as lost (a catastrophic V8 failure
   * inside an inline entry never returns) and the process is killed. Long
   * enough that any entry that will return has returned: the slowest
   * uninterruptible built-in an isolate can start within its memory limit
   * (a comparator-less sort of a 128 MB Float64Array takes about 2 s here).
   */
  readonly killGraceMs: number;
  /** Pipe to the supervisor for "stall <appId>" lines; undefined = none (then only the kill). */
  readonly reportFd?: number;
  /** An app was given an id (sent with a stall, so the supervisor knows whose entry it was). */
  readonly onAppId?: (appId: number, appKey: string) => void;
}

/**
 * Runs in its own thread. Shared state: [0] the current inline entry's
 * deadline (Date.now() scale, 0 = none), [1] its app id. Nothing on the
 * request path waits for this thread.
 */
const WATCHDOG_SOURCE = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const { stallGraceMs, killGraceMs, reportFd } = workerData;
const state = new Float64Array(workerData.shared);
let reportedFor = 0;
function say(fd, text) {
  try { writeSync(fd, text); } catch {}
}
setInterval(() => {
  const deadline = state[0];
  if (deadline === 0) return;
  const late = Date.now() - deadline;
  if (late > stallGraceMs && reportedFor !== deadline) {
    reportedFor = deadline;
    say(2, "error: front end stalled in an inline isolate entry past its deadline; the standby takes over\\n");
    if (reportFd !== undefined) say(reportFd, "stall " + state[1] + "\\n");
  }
  if (late > killGraceMs) {
    say(2, "error: front end still inside an inline isolate entry " + late + " ms past its deadline (catastrophic isolate failure); killing it\\n");
    process.kill(process.pid, "SIGKILL");
  }
}, ${CHECK_INTERVAL_MS});
`;

/**
 * An InlineEntryGuard backed by a watchdog thread. Only another thread can
 * notice that the main thread is stuck inside an inline isolate entry:
 * isolated-vm's own timeout would have ended a merely slow entry long
 * before. A stall is reported to the supervisor, which moves traffic to the
 * standby while this process finishes what it has (every request in flight
 * still gets its answer once the entry returns); only an entry that never
 * returns costs the process.
 */
export class HangWatchdog implements InlineEntryGuard {
  readonly #state: Float64Array;
  readonly #worker: Worker;
  readonly #appIds = new Map<string, number>();
  readonly #onAppId: ((appId: number, appKey: string) => void) | undefined;

  constructor(options: HangWatchdogOptions) {
    const shared = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
    this.#state = new Float64Array(shared);
    this.#onAppId = options.onAppId;
    this.#worker = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: { shared, stallGraceMs: options.stallGraceMs, killGraceMs: options.killGraceMs, reportFd: options.reportFd },
    });
    this.#worker.unref();
  }

  enter(deadlineMs: number, appKey: string): void {
    let appId = this.#appIds.get(appKey);
    if (appId === undefined) {
      appId = this.#appIds.size + 1;
      this.#appIds.set(appKey, appId);
      this.#onAppId?.(appId, appKey);
    }
    this.#state[1] = appId;
    this.#state[0] = deadlineMs;
  }

  exit(): void {
    this.#state[0] = 0;
  }

  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
