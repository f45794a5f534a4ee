/**
 * Request bodies the host streams in (large or of unknown length): the
 * request's `body` is a ReadableStream whose pulls ask the host for more
 * (host.requestBodyPull); the host answers with dispatch("body-data") once
 * it has bytes, the end, or an error. The host reads from the client only as
 * far as a small window ahead of these pulls, so an app that reads slowly,
 * or never, keeps the upload waiting in the client's socket instead of the
 * host's memory.
 */
import { IntrinsicUint8Array } from "./intrinsics.js";
import { host } from "./host.js";
import { streamClasses, type ReadableStream } from "./streams.js";

interface PendingPull {
  readonly enqueue: (chunk: Uint8Array) => void;
  readonly close: () => void;
  readonly error: (reason: unknown) => void;
  readonly settle: () => void;
}

/** Pulls waiting for the host, by request id. */
const waiting = new Map<string, PendingPull>();

/** The body stream of incoming request `requestId`, fed by the host. */
export function incomingBodyStream(requestId: string): ReadableStream<Uint8Array> {
  const Stream = streamClasses().ReadableStream;
  return new Stream<Uint8Array>(
    {
      pull(controller) {
        return new Promise<void>((resolve) => {
          waiting.set(requestId, {
            enqueue: (chunk) => controller.enqueue(chunk),
            close: () => controller.close(),
            error: (reason) => controller.error(reason),
            settle: resolve,
          });
          host.requestBodyPull(requestId);
        });
      },
      cancel() {
        waiting.delete(requestId);
        host.requestBodyCancel(requestId);
      },
    },
    // No queue of our own: every pull is one question to the host.
    { highWaterMark: 0 },
  );
}

/**
 * dispatch("body-data"): the host's answer to a pull. `state` is "data"
 * (with `chunk`), "end", or "error" (with `message`).
 */
export function deliverBodyData(requestId: string, chunk: ArrayBuffer | null, state: string, message: string): void {
  const pull = waiting.get(requestId);
  if (pull === undefined) return;
  waiting.delete(requestId);
  if (state === "data" && chunk !== null) pull.enqueue(new IntrinsicUint8Array(chunk));
  else if (state === "end") pull.close();
  else pull.error(new TypeError(message === "" ? "The request body could not be read" : message));
  pull.settle();
}
