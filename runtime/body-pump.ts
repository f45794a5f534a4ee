import type { SandboxBodyStream } from "../sandbox/index.js";
import type { HttpResponse } from "./uws.js";

/** What the pump needs from the writer that owns the response. */
export interface PumpOwner {
  /** False once the client went away or the response was cut. */
  isOpen(): boolean;
  /** The body went out whole. */
  done(): void;
  /** The body cannot be completed (the app's side failed): cut the connection. */
  cut(): void;
}

/**
 * Write a pulled body to the client at the client's pace: the next chunk is
 * pulled from the isolate only once uWS has taken the last one, so a slow
 * reader holds at most one chunk on the host and pauses the app's side.
 * With a known length the body goes out with Content-Length (`tryEnd`),
 * otherwise chunked (`write`, then `end`). Call inside the cork that wrote
 * the status and headers.
 */
export function pumpBody(res: HttpResponse, body: SandboxBodyStream, owner: PumpOwner, closeConnection: boolean): void {
  const total = body.length;
  const pullNext = (): void => {
    body.pull().then(
      (chunk) => {
        if (!owner.isOpen()) {
          body.cancel();
          return;
        }
        res.cork(() => (chunk === null ? finish() : send(chunk)));
      },
      () => {
        if (owner.isOpen()) owner.cut();
      },
    );
  };
  const finish = (): void => {
    // With a known length, the last tryEnd already ended the response.
    if (total === undefined) res.end(undefined, closeConnection);
    owner.done();
  };
  const send = (chunk: Uint8Array): void => {
    if (total === undefined) {
      if (res.write(chunk)) pullNext();
      else {
        res.onWritable(() => {
          if (owner.isOpen()) pullNext();
          return true;
        });
      }
      return;
    }
    const startOffset = res.getWriteOffset();
    const [ok, done] = res.tryEnd(chunk, total);
    if (done) {
      owner.done();
      return;
    }
    if (ok) {
      pullNext();
      return;
    }
    res.onWritable((offset) => {
      if (!owner.isOpen()) return true;
      const [retryOk, retryDone] = res.tryEnd(chunk.subarray(offset - startOffset), total);
      if (retryDone) owner.done();
      else if (retryOk) pullNext();
      return retryOk;
    });
  };
  if (total === 0) {
    // Nothing to pull but the end; tryEnd of an empty body ends it at once.
    res.end(undefined, closeConnection);
    owner.done();
    body.cancel();
    return;
  }
  pullNext();
}
