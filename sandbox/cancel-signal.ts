/**
 * Tells the sandbox that the caller gave up on a request (the client went
 * away). A two-member interface instead of AbortSignal: Node's AbortSignal
 * is an EventTarget whose creation costs more than the rest of a small
 * request's host-side handling, and the front end needs one per request.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  /** Call `listener` once if and when the request is aborted. */
  onAbort(listener: () => void): void;
}
