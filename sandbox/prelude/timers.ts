/**
 * setTimeout/setInterval on host timers. The host fires dispatch("timer", id)
 * after the delay; the timer remembers which request created it and restores
 * that as the current request before its callback runs.
 */
import { host } from "./host.js";
import { reportException } from "./report-exception.js";
import { currentRequestId, enterRequest } from "./request-context.js";

/** Longest delay a timer accepts, as in browsers and Node (a signed 32-bit int of ms). */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface Timer {
  callback: (...args: unknown[]) => unknown;
  args: unknown[];
  requestId: string;
  /** Delay to re-arm with, or null for a one-shot timer. */
  repeatMs: number | null;
}

const timers = new Map<number, Timer>();
let lastTimerId = 0;

function delayOf(value: unknown): number {
  const delay = Number(value);
  if (!(delay > 0) || delay > MAX_DELAY_MS) return 0;
  return Math.floor(delay);
}

function start(callback: unknown, delay: unknown, args: unknown[], repeat: boolean): number {
  if (typeof callback !== "function") {
    throw new TypeError('The "callback" argument must be of type function');
  }
  const delayMs = delayOf(delay);
  const timerId = ++lastTimerId;
  const requestId = currentRequestId();
  timers.set(timerId, { callback: callback as Timer["callback"], args, requestId, repeatMs: repeat ? Math.max(delayMs, 1) : null });
  host.timerStart(timerId, requestId, delayMs);
  return timerId;
}

function clear(timerId: unknown): void {
  const id = Number(timerId);
  if (!timers.delete(id)) return;
  host.timerClear(id);
}

/** Runs `callback(...args)` once after `delay` ms; returns an id for clearTimeout. */
export function setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): number {
  return start(callback, delay, args, false);
}

/** Runs `callback(...args)` every `delay` ms; returns an id for clearInterval. */
export function setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): number {
  return start(callback, delay, args, true);
}

/** Cancels a timer; unknown ids are ignored. */
export function clearTimeout(timerId?: unknown): void {
  clear(timerId);
}

/**
 * Runs `callback(...args)` once, after the current task and its microtasks,
 * as workerd's setImmediate: a zero-delay host timer, so immediates and
 * zero-delay timeouts run in the order they were made (as workerd runs them)
 * and belong to the request that made them like any timer.
 */
export function setImmediate(callback: unknown, ...args: unknown[]): number {
  if (typeof callback !== "function") {
    throw new TypeError("Failed to execute 'setImmediate' on 'ServiceWorkerGlobalScope': parameter 1 is not of type 'function'.");
  }
  return start(callback, 0, args, false);
}

/** Cancels an immediate; unknown ids are ignored. */
export function clearImmediate(immediateId?: unknown): void {
  clear(immediateId);
}

/** Cancels an interval; unknown ids are ignored. */
export function clearInterval(timerId?: unknown): void {
  clear(timerId);
}

/** dispatch("timer", id): runs the timer's callback for the request that created it. */
export function fireTimer(timerId: number): void {
  const timer = timers.get(timerId);
  if (timer === undefined) return;
  enterRequest(timer.requestId);
  if (timer.repeatMs === null) timers.delete(timerId);
  else host.timerStart(timerId, timer.requestId, timer.repeatMs);
  try {
    timer.callback.apply(globalThis, timer.args);
  } catch (error) {
    reportException(error);
  }
}

/** Schedules `callback` as a microtask; an exception in it is logged, not lost. */
export function queueMicrotask(callback: unknown): void {
  if (typeof callback !== "function") {
    throw new TypeError('The "callback" argument must be of type function');
  }
  void Promise.resolve().then(() => {
    try {
      (callback as () => unknown)();
    } catch (error) {
      reportException(error);
    }
  });
}
