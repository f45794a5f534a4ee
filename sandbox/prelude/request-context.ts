/**
 * Which request the code running now belongs to. Every entry into the isolate
 * sets it (a request entry to its id, a timer or fetch result to the id that
 * was current when the timer or fetch was started) and the microtasks that run
 * at the end of that entry see it. The host uses the id for CPU accounting
 * and subrequest limits, so timers and fetches record and restore it.
 */

let current = "";

/** The id of the request whose code runs now; "" outside any request. */
export function currentRequestId(): string {
  return current;
}

/** Called at every entry into the isolate. */
export function enterRequest(requestId: string): void {
  current = requestId;
}
