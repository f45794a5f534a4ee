import { randomUUID } from "node:crypto";
import { HostMemoryBudget, isSandboxError, type CancelSignal, type SandboxRequest, type SandboxResponse } from "../sandbox/index.js";
import { readBody } from "./body-reader.js";
import { BODY_TOO_LARGE, errorBody, INTERNAL_ERROR, replyForSandboxCode, type ErrorReply } from "./error-response.js";
import type { LogSink } from "./logger.js";
import type { AssetSource } from "./front-end/static-assets.js";
import type { RequestObserver } from "./request-observer.js";
import { checkRequestHead } from "./request-head.js";
import type { RequestTarget } from "./request-target.js";
import { ResponseWriter } from "./response-writer.js";
import { StreamedRequestBody } from "./streamed-request-body.js";
import { listenOn, loadUws, serveAll, type HttpRequest, type HttpResponse, type TemplatedApp, type Uws, type us_listen_socket } from "./uws.js";

/** Where requests go once read; implemented by AppHost (embedded) and later by group proxies. */
export interface RequestHandler {
  fetch(request: SandboxRequest, signal: CancelSignal): Promise<SandboxResponse>;
  /** Rewrites bundle positions in an app stack to source positions. */
  mapStack(stack: string): string;
  readonly appName: string;
  /** The app's host-memory account; request bodies being read are counted in it. Default: uncounted. */
  readonly hostMemory?: HostMemoryBudget;
  /** The app's request body limit. Default: the server's. */
  readonly bodyLimitBytes?: number;
  /** The app's static files, asked before `fetch` for GET and HEAD requests without a body. Default: none. */
  readonly assets?: AssetSource | undefined;
}

/**
 * Finds the handler of each request from its head, before any of its body
 * is read (the body limit and the host-memory account are the app's), or
 * the reply that refuses it (404 when no route matches).
 */
export interface RequestDispatcher {
  resolve(target: RequestTarget, method: string, headers: readonly string[]): RequestHandler | ErrorReply;
}

/** A dispatcher with one handler for every request (`edgehost run`-style, benches, tests). */
export function singleHandler(handler: RequestHandler): RequestDispatcher {
  return { resolve: () => handler };
}

/** Request bodies with a declared length up to this are read whole before the app runs; larger ones stream. */
const WHOLE_BODY_MAX_BYTES = 1024 * 1024;

/** For handlers without an account of their own. */
const UNCOUNTED = new HostMemoryBudget(Number.MAX_SAFE_INTEGER);

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** The body limit of handlers that name none. */
  readonly bodyLimitBytes: number;
  readonly dispatcher: RequestDispatcher;
  readonly log: LogSink;
  /** When it returns a reply, new requests are refused with it. */
  readonly refuseWith?: () => ErrorReply | undefined;
  /** Told of every request's CPU and of its end (metrics, the request log). */
  readonly observer?: RequestObserver;
}

/** What the server learns about one request on its way, for its observer. */
interface RequestTrace {
  readonly id: string;
  /** The app it was routed to. */
  app: string | undefined;
  /** The catalogued error it was answered with. */
  error: string | undefined;
  cpuMs: number;
  /** Handed to a sandbox whose answering entry is not charged yet (SandboxRequest.onAccounted). */
  awaitingCharge: boolean;
  /** The report waiting for that charge. */
  whenCharged: (() => void) | undefined;
}

/**
 * Longest a finished request's report waits for its answering entry's
 * charge (a handler that never reports one, an isolate disposed mid-entry),
 * ms; then it goes out with the CPU counted so far.
 */
const CHARGE_WAIT_MS = 100;

/** A finished request waiting for the end of the turn to be reported. */
interface UnreportedRequest {
  readonly trace: RequestTrace;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
}

/** Reported for a request whose client left before any status was written (nginx's convention). */
const CLIENT_CLOSED_STATUS = 499;

const JSON_HEADERS = ["content-type", "application/json"];
/**
 * A draining server waits for this long without a new request before it
 * calls itself drained: requests a client had already sent on a keep-alive
 * connection when the listener closed are still read and answered.
 */
const DRAIN_QUIET_MS = 250;
/** How often drain() looks. */
const DRAIN_POLL_MS = 25;

/**
 * The uWS front end: reads each request synchronously in
 * the uWS callback (the request object dies when it returns), reads the
 * body with a limit, hands it to the handler and writes the answer. Every
 * failure is answered with a JSON error naming the request id; nothing
 * escapes into uWS's C++.
 */
export class HttpServer {
  readonly #options: HttpServerOptions;
  readonly #uws: Uws;
  readonly #app: TemplatedApp;
  #listenSocket: us_listen_socket | undefined;
  #port = 0;
  /** False once the listener is closed: requests on open connections are answered, then the connection closes. */
  #accepting = true;
  #lastRequestAt = 0;
  readonly #inFlight = new Set<ResponseWriter>();
  #drainWaiters: Array<() => void> = [];
  /** Finished requests not yet told to the observer (see #reportLater). */
  #unreported: UnreportedRequest[] = [];

  constructor(options: HttpServerOptions) {
    this.#options = options;
    this.#uws = loadUws();
    this.#app = this.#uws.App();
    serveAll(this.#app, "front end", options.log, (res, req) => this.#onRequest(res, req));
  }

  /** Listen; resolves with the bound port. Rejects RuntimeError(PORT_IN_USE). */
  async listen(): Promise<number> {
    const { socket, port } = await listenOn(this.#uws, this.#app, this.#options.host, this.#options.port, "");
    this.#listenSocket = socket;
    this.#port = port;
    return port;
  }

  get port(): number {
    return this.#port;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Hand the port over: let one turn of the event loop accept what the
   * kernel already queued for this listener (connections still in a closed
   * listener's backlog are reset, and a stalled front end may have a
   * backlog), then stop listening.
   */
  async handOver(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.stopListening();
  }

  /**
   * Stop accepting connections. Requests still arriving on open keep-alive
   * connections are served as usual, each answer closing its connection,
   * so clients reconnect to whoever holds the port now.
   */
  stopListening(): void {
    this.#accepting = false;
    if (this.#listenSocket !== undefined) {
      this.#uws.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = undefined;
    }
  }

  /** Resolve when no request is in flight, or after `timeoutMs` (then cut the rest). */
  async drain(timeoutMs: number): Promise<void> {
    const started = performance.now();
    const deadline = started + timeoutMs;
    const isDrained = (): boolean =>
      this.#inFlight.size === 0 && performance.now() - Math.max(this.#lastRequestAt, started) >= DRAIN_QUIET_MS;
    while (!isDrained() && performance.now() < deadline) {
      if (this.#inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
          this.#drainWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      } else {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
    }
    for (const writer of this.#inFlight) writer.close();
  }

  /** Stop listening and cut requests still open. */
  close(): void {
    this.stopListening();
    for (const writer of this.#inFlight) writer.close();
  }

  #onRequest(res: HttpResponse, req: HttpRequest): void {
    // Everything from `req` must be copied now: it is invalid after return.
    const method = req.getCaseSensitiveMethod();
    const path = req.getUrl();
    const query = req.getQuery() as string | undefined;
    const headers: string[] = [];
    req.forEach((name, value) => {
      headers.push(name, value);
    });
    const writer = new ResponseWriter(res);
    const requestId = randomUUID();
    const trace: RequestTrace = { id: requestId, app: undefined, error: undefined, cpuMs: 0, awaitingCharge: false, whenCharged: undefined };
    const startedAt = performance.now();
    this.#lastRequestAt = startedAt;
    const observer = this.#options.observer;
    if (observer !== undefined) {
      writer.onFinish(() => {
        const finished = { trace, method, path, status: writer.status ?? CLIENT_CLOSED_STATUS, durationMs: performance.now() - startedAt };
        if (!trace.awaitingCharge) {
          this.#reportLater(observer, finished);
          return;
        }
        const timer = setTimeout(() => trace.whenCharged?.(), CHARGE_WAIT_MS);
        trace.whenCharged = () => {
          trace.whenCharged = undefined;
          clearTimeout(timer);
          this.#reportLater(observer, finished);
        };
      });
    }
    const refusal = this.#options.refuseWith?.();
    if (refusal !== undefined) {
      this.#replyError(writer, refusal, trace, true);
      return;
    }
    const head = checkRequestHead(method, path, query, headers);
    if (!head.ok) {
      this.#replyError(writer, head.reply, trace, true);
      return;
    }
    const { contentLength, hasBody } = head;
    const { url } = head.target;
    const handler = this.#options.dispatcher.resolve(head.target, method, headers);
    if (!("fetch" in handler)) {
      // Refused before the body: the connection closes rather than read a body nobody wants.
      this.#replyError(writer, handler, trace, hasBody);
      return;
    }
    trace.app = handler.appName;
    this.#track(writer);
    // Labels are the handler's app name (a configured one), never the request's Host.
    const appName = handler.appName;
    const onCpu =
      observer === undefined
        ? undefined
        : (ms: number): void => {
            trace.cpuMs += ms;
            observer.cpu(appName, ms);
          };
    const onAccounted =
      observer === undefined
        ? undefined
        : (): void => {
            trace.awaitingCharge = false;
            trace.whenCharged?.();
          };
    // One object shape for every request (a spread would give each its own): the sandbox reads these on the hot path.
    const request = (body: SandboxRequest["body"]): SandboxRequest => ({ id: requestId, method, url, headers, body, onCpu, onAccounted });
    const { assets } = handler;
    if (assets !== undefined && !hasBody && (method === "GET" || method === "HEAD")) {
      this.#serveAsset(handler, assets, writer, request(null), head.target.pathname, trace);
      return;
    }
    if (!hasBody) {
      this.#dispatch(handler, writer, request(null), trace);
      return;
    }
    // The body's bytes stay counted until the answer is out (the isolate has its own copy by then).
    const reservation = (handler.hostMemory ?? UNCOUNTED).open();
    writer.onFinish(() => reservation.releaseAll());
    // Large or unknown-length bodies are streamed to the app as it reads
    // them; a declared length over the limit still gets its 413 from readBody.
    const limit = handler.bodyLimitBytes ?? this.#options.bodyLimitBytes;
    if (contentLength === undefined || (contentLength > WHOLE_BODY_MAX_BYTES && contentLength <= limit)) {
      this.#dispatch(handler, writer, request(new StreamedRequestBody(writer, limit, reservation)), trace);
      return;
    }
    readBody(writer, contentLength, limit, reservation).then(
      (result) => {
        if (result.kind === "too-large") this.#replyError(writer, BODY_TOO_LARGE, trace, true);
        else if (result.kind === "no-memory") this.#replyError(writer, replyForSandboxCode("EDGE_SANDBOX_MEMORY_LIMIT"), trace, true);
        else if (result.kind === "ok") this.#dispatch(handler, writer, request(result.body), trace);
      },
      (error: unknown) => this.#fail(handler, writer, trace, error),
    );
  }

  /**
   * Reports go out one turn of the loop after the request finished, or after
   * its answering entry was charged if that came later (onAccounted), so
   * that CPU is in the request's figure. One setImmediate per turn for all
   * of them, not one per request.
   */
  #reportLater(observer: RequestObserver, finished: UnreportedRequest): void {
    this.#unreported.push(finished);
    if (this.#unreported.length > 1) return;
    setImmediate(() => {
      const due = this.#unreported;
      this.#unreported = [];
      for (const done of due) {
        const { trace: traced } = done;
        observer.finished({
          app: traced.app,
          requestId: traced.id,
          method: done.method,
          path: done.path,
          status: done.status,
          durationMs: done.durationMs,
          cpuMs: traced.cpuMs,
          error: traced.error,
        });
      }
    });
  }

  #dispatch(handler: RequestHandler, writer: ResponseWriter, request: SandboxRequest, trace: RequestTrace): void {
    // Its report waits for the answering entry's charge (asset answers and early refusals never enter a sandbox).
    trace.awaitingCharge = request.onAccounted !== undefined;
    handler.fetch(request, writer).then(
      (response) =>
        writer.write(response.status, response.statusText, response.headers, response.body, {
          omitBody: request.method === "HEAD",
          closeConnection: !this.#accepting,
        }),
      (error: unknown) => this.#fail(handler, writer, trace, error),
    );
  }

  /**
   * A static file when one answers, else the handler. The file goes out as
   * a pulled body: read a chunk at a time as the client takes them, and
   * closed on abort (the writer cancels it).
   */
  #serveAsset(handler: RequestHandler, assets: AssetSource, writer: ResponseWriter, request: SandboxRequest, pathname: string, trace: RequestTrace): void {
    assets.lookup(request.method, pathname, request.headers).then(
      (asset) => {
        if (asset !== undefined) {
          writer.write(asset.status, "", asset.headers, asset.body, { omitBody: request.method === "HEAD", closeConnection: !this.#accepting });
        } else if (writer.isOpen) {
          this.#dispatch(handler, writer, request, trace);
        }
      },
      (error: unknown) => this.#fail(handler, writer, trace, error),
    );
  }

  #fail(handler: RequestHandler, writer: ResponseWriter, trace: RequestTrace, error: unknown): void {
    const requestId = trace.id;
    if (isSandboxError(error)) {
      if (error.code === "EDGE_SANDBOX_ABORTED") return;
      const reply = replyForSandboxCode(error.code);
      const { appName } = handler;
      if (error.details.appStack !== undefined) {
        const stack = handler.mapStack(error.details.appStack);
        // V8 stacks start with "Name: message"; do not print it twice.
        const message = stack.startsWith(error.message) ? stack : `${error.message}\n${stack}`;
        this.#options.log({ level: "error", app: appName, requestId, message });
      } else {
        this.#options.log({ level: "warn", app: appName, requestId, message: `${reply.status} ${reply.error}: ${error.message}` });
      }
      const { retryAfterMs } = error.details;
      const extra = retryAfterMs === undefined ? [] : ["retry-after", String(Math.max(1, Math.ceil(retryAfterMs / 1000)))];
      // A body refused half-way is not read further: the connection cannot be reused.
      this.#replyError(writer, reply, trace, error.code === "EDGE_SANDBOX_BODY_TOO_LARGE", extra);
      return;
    }
    this.#options.log({ level: "error", requestId, message: `internal error: ${describe(error)}` });
    this.#replyError(writer, INTERNAL_ERROR, trace, false);
  }

  #replyError(writer: ResponseWriter, reply: ErrorReply, trace: RequestTrace, closeConnection: boolean, extraHeaders: readonly string[] = []): void {
    const requestId = trace.id;
    if (writer.isOpen) trace.error = reply.error;
    writer.write(reply.status, "", [...JSON_HEADERS, "x-request-id", requestId, ...extraHeaders], errorBody(reply, requestId), {
      closeConnection: closeConnection || !this.#accepting,
    });
  }

  #track(writer: ResponseWriter): void {
    this.#inFlight.add(writer);
    writer.onFinish(() => {
      this.#inFlight.delete(writer);
      if (this.#inFlight.size === 0) {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const waiter of waiters) waiter();
      }
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
