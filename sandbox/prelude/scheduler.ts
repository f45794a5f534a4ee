/** `scheduler.wait(ms, { signal })` as Workers has it: a promise for a timer, cancelled by an AbortSignal. */
import { addAbortAlgorithm, AbortSignal } from "./abort.js";
import { clearTimeout, setTimeout } from "./timers.js";

const SCHEDULER_KEY = Symbol("Scheduler");

/** The `scheduler` global's class. */
export class Scheduler {
  constructor(key: symbol) {
    if (key !== SCHEDULER_KEY) throw new TypeError("Illegal constructor");
  }

  wait(delay?: number, options?: { signal?: AbortSignal }): Promise<void> {
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) return Promise.reject(new TypeError("scheduler.wait: options.signal is not an AbortSignal"));
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(resolve, delay);
      if (signal !== undefined) {
        addAbortAlgorithm(signal, () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }
    });
  }

  get [Symbol.toStringTag](): string {
    return "Scheduler";
  }
}

/** The isolate's one `scheduler` object. */
export function createScheduler(): Scheduler {
  return new Scheduler(SCHEDULER_KEY);
}
