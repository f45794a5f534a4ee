/**
 * A request body the caller streams into the sandbox, read as the app
 * reads it. The sandbox never reads ahead of the app: each `read()` answers
 * one pull of the app's `request.body`, so the caller can keep the rest in
 * the client's socket (backpressure) instead of in memory.
 */
export interface RequestBodyStream {
  /**
   * The next chunk (at most 1 MiB), or null at the end. Rejects with a
   * SandboxError when the body cannot be completed: BODY_TOO_LARGE past the
   * body limit, ABORTED when the client left.
   */
  read(): Promise<Uint8Array | null>;
  /** The app does not want the rest: drop what is held and discard what still comes. Idempotent. */
  cancel(): void;
}

/** True if `body` is a RequestBodyStream rather than whole bytes. */
export function isRequestBodyStream(body: Uint8Array | RequestBodyStream | null): body is RequestBodyStream {
  return body !== null && !(body instanceof Uint8Array);
}
