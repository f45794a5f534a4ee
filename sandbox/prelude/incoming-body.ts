/**
 * Request bodies the host streams in (large or of unknown length): the
 * request's `body` is a byte stream whose pulls ask the host for more
 * (host.requestBodyPull); the host answers with dispatch("body-data") once
 * it has bytes, the end, or an error (host-fed-stream.ts). The host reads
 * from the client only as far as a small window ahead of these pulls.
 */
import { host } from "./host.js";
import { HostFedStreams } from "./host-fed-stream.js";
import type { ReadableStream } from "./streams.js";

const incoming = new HostFedStreams<string>(
  (requestId) => host.requestBodyPull(requestId),
  (requestId) => host.requestBodyCancel(requestId),
  "The request body could not be read",
);

/** The body stream of incoming request `requestId`, fed by the host. */
export function incomingBodyStream(requestId: string): ReadableStream<Uint8Array> {
  return incoming.open(requestId, requestId).stream;
}

/**
 * dispatch("body-data"): the host's answer to a pull. `state` is "data"
 * (with `chunk`), "end", or "error" (with `message`).
 */
export function deliverBodyData(requestId: string, chunk: ArrayBuffer | null, state: string, message: string): void {
  incoming.deliver(requestId, chunk, state, message);
}
