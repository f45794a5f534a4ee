import { readdirSync } from "node:fs";
import { setPriority } from "node:os";

/** Nice value for every thread but the main one (0 is the default; 19 the lowest). */
const BACKGROUND_NICE = 10;
/** How often new threads are looked for (isolated-vm starts its threads on demand). */
const RESCAN_INTERVAL_MS = 500;

/**
 * Keeps the front end's main thread (uWS, the event loop, inline entries)
 * ahead of every other thread of the process: isolated-vm's isolate
 * threads, where tenants' pooled entries run (and where an uninterruptible
 * built-in keeps running after its isolate was disposed), the libuv pool
 * and V8's helpers. On a busy core the scheduler then gives the event loop
 * most of the CPU, so one tenant's work slows other tenants' requests as
 * little as possible. Linux applies a nice value per thread; threads are
 * found in /proc/self/task, and new ones (inheriting the main thread's
 * priority) are picked up by a rescan. Elsewhere this does nothing.
 */
export function deprioritiseBackgroundThreads(): { stop(): void } {
  const done = new Set<number>();
  const scan = (): void => {
    let tids: string[];
    try {
      tids = readdirSync("/proc/self/task");
    } catch {
      return;
    }
    for (const name of tids) {
      const tid = Number(name);
      if (tid === process.pid || done.has(tid)) continue;
      done.add(tid);
      try {
        setPriority(tid, BACKGROUND_NICE);
      } catch {
        // The thread ended meanwhile, or the platform refuses: nothing to do.
      }
    }
  };
  scan();
  const timer = setInterval(scan, RESCAN_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
