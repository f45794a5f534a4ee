/**
 * streams: response bodies of outbound fetches that the host streams
 * (dispatch "fetch-result" with `bodyStreamed`): the Response's body is a
 * byte stream, made when the app first touches it, whose pulls ask the host
 * for more (host.fetchBodyPull, answered by dispatch "fetch-body"; see
 * host-fed-stream.ts). The host reads upstream only as far as a small
 * window ahead of these pulls, so `return fetch(url)` or
 * `new Response(upstream.body)` streams end to end, and a body nobody
 * reads stays with the upstream. Aborting the fetch's signal after the
 * response errors the body with the signal's reason, as the Fetch Standard
 * says, and cancels the upstream.
 *
 * A body the app returns untouched as its response's body is not read here
 * at all: the host writes it to the client straight from upstream
 * (takeUntouchedFetchedBody, host respondWithFetchedBody), which costs the
 * app no CPU per byte.
 */
import { addAbortAlgorithm, type AbortSignal } from "./abort.js";
import { host } from "./host.js";
import { type HostFedStream, HostFedStreams } from "./host-fed-stream.js";
import { acquireReader, isStreamDisturbed, isStreamLocked, streamClasses, type ReadableStream } from "./streams.js";

/** Fetched body streams nobody has read yet, and their call ids. */
const untouched = new WeakMap<ReadableStream, number>();

const fetched = new HostFedStreams<number>(
  (callId) => host.fetchBodyPull(callId),
  (callId) => host.fetchBodyCancel(callId),
  "The response body could not be read",
);

/**
 * The factory of the body stream of fetch `callId` (for setLazyBodyStream),
 * which belongs to request `requestId` and ends with `signal`.
 */
export function fetchedBodyFactory(callId: number, requestId: string, signal: AbortSignal): () => ReadableStream<Uint8Array> {
  let opened: HostFedStream | null = null;
  let aborted: { reason: unknown } | null = null;
  addAbortAlgorithm(signal, () => {
    if (opened !== null) opened.error(signal.reason);
    else {
      aborted = { reason: signal.reason };
      host.fetchBodyCancel(callId);
    }
  });
  return () => {
    if (aborted !== null) {
      const { reason } = aborted;
      return new (streamClasses().ReadableStream)<Uint8Array>({
        start(controller) {
          controller.error(reason);
        },
      });
    }
    opened = fetched.open(callId, requestId);
    untouched.set(opened.stream, callId);
    return opened.stream;
  };
}

/**
 * If `stream` is a fetched body nobody has read, locked or cancelled, lock
 * it for good (the host takes it over) and return its call id; else undefined.
 */
export function takeUntouchedFetchedBody(stream: ReadableStream): number | undefined {
  const callId = untouched.get(stream);
  if (callId === undefined) return undefined;
  untouched.delete(stream);
  if (isStreamLocked(stream) || isStreamDisturbed(stream)) return undefined;
  // Locked, as any body that goes out is: the app can no longer read it.
  acquireReader(stream);
  return callId;
}

/** dispatch("fetch-body"): the host's answer to a pull of fetch `callId`'s body. */
export function deliverFetchBody(callId: number, chunk: ArrayBuffer | null, state: string, message: string): void {
  fetched.deliver(callId, chunk, state, message);
}
