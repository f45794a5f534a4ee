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
