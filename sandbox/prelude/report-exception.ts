/** Logs an exception nobody caught (listener, timer, microtask, waitUntil) as Node prints it. */
import { host } from "./host.js";
import { inspect } from "./inspect.js";
import { currentRequestId } from "./request-context.js";

/** Sends "Uncaught <error>" to the host log at error level, for `requestId` (default: the current request). */
export function reportException(error: unknown, requestId: string = currentRequestId()): void {
  try {
    host.log("error", requestId, `Uncaught ${inspect(error)}`);
  } catch {
    // Logging must never turn into a second failure.
  }
}

/** The `reportError` global: reports `error` as an uncaught exception (to the log, for the current request), without throwing. */
export function reportError(error: unknown): void {
  if (arguments.length === 0) throw new TypeError("reportError: 1 argument required, but only 0 present");
  reportException(error);
}
