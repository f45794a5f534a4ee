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
 */
import { addAbortAlgorithm, type AbortSignal } from "./abort.js";
import { host } from "./host.js";
import { type HostFedStream, HostFedStreams } from "./host-fed-stream.js";
import { streamClasses, type ReadableStream } from "./streams.js";

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
    return opened.stream;
  };
}

/** dispatch("fetch-body"): the host's answer to a pull of fetch `callId`'s body. */
export function deliverFetchBody(callId: number, chunk: ArrayBuffer | null, state: string, message: string): void {
  fetched.deliver(callId, chunk, state, message);
}
