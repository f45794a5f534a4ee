import { HOST_MANAGED_RESPONSE_HEADERS, type CancelSignal, type SandboxBodyStream } from "../sandbox/index.js";
import { pumpBody } from "./body-pump.js";
import { reasonPhrase } from "./reason-phrases.js";
import type { HttpResponse } from "./uws.js";

/** Bodies up to this size go out in one `end`; larger ones stream with backpressure. */
const SMALL_BODY_BYTES = 64 * 1024;

type WriterState = "open" | "aborted" | "done";

/**
 * The only object that touches a uWS HttpResponse. It registers `onAborted`
 * at construction (before any await), so every later write checks the state
 * first and nothing writes to a response whose socket is gone. Writes happen
 * inside `cork`, status first; big bodies honour backpressure via
 * `tryEnd`/`onWritable`, so a slow reader holds at most the body we already
 * have, never a growing queue.
 */
export class ResponseWriter implements CancelSignal {
  #state: WriterState = "open";
  readonly #res: HttpResponse;
  #onAbort: Array<() => void> | undefined;
  #onFinish: Array<(state: WriterState) => void> | undefined;
  #status: number | undefined;
  /** A started stream's drain listener (startStream). */
  #onDrain: (() => void) | undefined;

  constructor(res: HttpResponse) {
    this.#res = res;
    res.onAborted(() => this.#abort());
  }

  /** True once the client went away (or the server cut the response). */
  get aborted(): boolean {
    return this.#state === "aborted";
  }

  /** Run `listener` once if the client goes away before the response is complete. */
  onAbort(listener: () => void): void {
    if (this.#state === "aborted") listener();
    else if (this.#state === "open") (this.#onAbort ??= []).push(listener);
  }

  #abort(): void {
    if (this.#state !== "open") return;
    this.#state = "aborted";
    const listeners = this.#onAbort;
    this.#onAbort = undefined;
    listeners?.forEach((listener) => listener());
    this.#finish();
  }

  /** The status written, once the head is out. */
  get status(): number | undefined {
    return this.#status;
  }

  get isOpen(): boolean {
    return this.#state === "open";
  }

  /** Run `listener` once the response is done or aborted. */
  onFinish(listener: (state: WriterState) => void): void {
    if (this.#state !== "open") listener(this.#state);
    else (this.#onFinish ??= []).push(listener);
  }

  /** Pause/resume reading the request body (flow control for onData). */
  pauseReading(): void {
    if (this.#state === "open") this.#res.pause();
  }

  resumeReading(): void {
    if (this.#state === "open") this.#res.resume();
  }

  /** Register the body data handler; only valid while open. */
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.#res.onData(handler);
  }

  /**
   * Write a whole response. `headers` is a flat name/value list; framing and
   * hop-by-hop headers are skipped whatever their case (the sandbox already
   * drops them; this is the second line, since uWS would send them verbatim). `closeConnection` ends keep-alive (used after
   * refusing a body we will not read). `omitBody` is for HEAD.
   */
  write(
    status: number,
    statusText: string,
    headers: readonly string[],
    body: Uint8Array | string | SandboxBodyStream | null,
    options: { closeConnection?: boolean; omitBody?: boolean } = {},
  ): void {
    if (this.#state !== "open") {
      if (isBodyStream(body)) body.cancel();
      return;
    }
    if (isBodyStream(body)) {
      this.#writePulled(status, statusText, headers, body, options);
      return;
    }
    const res = this.#res;
    const bytes = typeof body === "string" && body.length > SMALL_BODY_BYTES / 3 ? Buffer.from(body) : body;
    res.cork(() => {
      this.#writeHead(status, statusText, headers);
      if (status === 204 || status === 304) {
        // No body and, per RFC 9110, no Content-Length for these statuses.
        // (uWS writes no Content-Length only when called without arguments.)
        res.endWithoutBody();
        this.#done();
        return;
      }
      if (options.omitBody) {
        // HEAD: the Content-Length a GET would get, but none for a null body
        // (workerd sends none there). uWS writes a Content-Length for any
        // argument list, even `undefined` (as 2^63), so a null body gets the
        // call without arguments, and a Connection header instead of the flag.
        if (bytes === null) {
          if (options.closeConnection ?? false) res.writeHeader("connection", "close");
          res.endWithoutBody();
        } else {
          res.endWithoutBody(typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength, options.closeConnection ?? false);
        }
        this.#done();
        return;
      }
      if (bytes === null || typeof bytes === "string" || bytes.byteLength <= SMALL_BODY_BYTES) {
        res.end(bytes ?? "", options.closeConnection ?? false);
        this.#done();
        return;
      }
      this.#stream(bytes);
    });
  }

  /** A body pulled from the isolate chunk by chunk as the client reads (see pumpBody). */
  #writePulled(
    status: number,
    statusText: string,
    headers: readonly string[],
    body: SandboxBodyStream,
    options: { closeConnection?: boolean; omitBody?: boolean },
  ): void {
    const res = this.#res;
    this.onAbort(() => body.cancel());
    res.cork(() => {
      this.#writeHead(status, statusText, headers);
      if (options.omitBody === true || status === 204 || status === 304) {
        body.cancel();
        if (body.length === undefined) res.endWithoutBody(undefined, options.closeConnection ?? false);
        else res.endWithoutBody(body.length, options.closeConnection ?? false);
        this.#done();
        return;
      }
      const owner = { isOpen: (): boolean => this.#state === "open", done: () => this.#done(), cut: () => this.close() };
      pumpBody(res, body, owner, options.closeConnection ?? false);
    });
  }

  /** Status line and headers; framing and hop-by-hop headers are skipped whatever their case. */
  #writeHead(status: number, statusText: string, headers: readonly string[]): void {
    const res = this.#res;
    this.#status = status;
    res.writeStatus(`${status} ${statusText || reasonPhrase(status)}`);
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      if (!HOST_MANAGED_RESPONSE_HEADERS.has(name.toLowerCase())) res.writeHeader(name, headers[i + 1] as string);
    }
  }

  /** Send `bytes` as fast as the client reads, and no faster. */
  #stream(bytes: Uint8Array): void {
    const res = this.#res;
    const total = bytes.byteLength;
    const [, done] = res.tryEnd(bytes, total);
    if (done) {
      this.#done();
      return;
    }
    res.onWritable((offset) => {
      if (this.#state !== "open") return true;
      const [ok, finished] = res.tryEnd(bytes.subarray(offset), total);
      if (finished) this.#done();
      return ok;
    });
  }

  #done(): void {
    if (this.#state !== "open") return;
    this.#state = "done";
    this.#finish();
  }

  #finish(): void {
    this.#onDrain = undefined;
    const listeners = this.#onFinish;
    this.#onFinish = undefined;
    this.#onAbort = undefined;
    listeners?.forEach((listener) => listener(this.#state));
  }

  /**
   * Start a response whose body is written over time, chunked (Server-Sent
   * Events): status, headers and `first` now, so the client has the head at
   * once. Then `writeChunk` and `endStream`; `onDrain` runs when the socket
   * drains after a `writeChunk` that returned false.
   */
  startStream(status: number, headers: readonly string[], first: string, onDrain: () => void): void {
    if (this.#state !== "open") return;
    this.#onDrain = onDrain;
    this.#res.cork(() => {
      this.#writeHead(status, "", headers);
      this.#writeOrWait(first);
    });
  }

  /** One chunk of a started stream. False: the socket did not take it all (uWS holds the rest); wait for the drain. */
  writeChunk(text: string): boolean {
    if (this.#state !== "open") return false;
    let ok = false;
    this.#res.cork(() => (ok = this.#writeOrWait(text)));
    return ok;
  }

  #writeOrWait(text: string): boolean {
    const ok = this.#res.write(text);
    if (!ok) {
      // Registered again after each refused write: the one handler is what uWS calls next.
      this.#res.onWritable(() => {
        if (this.#state === "open") this.#onDrain?.();
        return true;
      });
    }
    return ok;
  }

  /** End a started stream. */
  endStream(): void {
    if (this.#state !== "open") return;
    this.#res.cork(() => this.#res.end());
    this.#done();
  }

  /** Close the connection without a response (shutdown past its deadline). */
  close(): void {
    if (this.#state !== "open") return;
    this.#res.close();
    this.#abort();
  }
}

function isBodyStream(body: Uint8Array | string | SandboxBodyStream | null): body is SandboxBodyStream {
  return body !== null && typeof body === "object" && !(body instanceof Uint8Array);
}
