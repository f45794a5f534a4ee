/**
 * The single entry the host calls: dispatch(kind, ...args). Each kind returns
 * synchronously; outcomes go back through host callbacks. Nothing thrown in
 * here reaches the host for request, abort, timer or fetch kinds: failures
 * are reported through host.fail or the log.
 */
import { AbortController } from "./abort.js";
import { toWireBody, takeBody, type BodySource } from "./body.js";
import { deliverDigestResult } from "./crypto.js";
import { DOMException } from "./dom-exception.js";
import { deliverCryptoResult } from "./subtle/calls.js";
import { deliverFetchError, deliverFetchResult, headerChars } from "./fetch.js";
import { deliverFetchBody, takeUntouchedFetchedBody } from "./fetched-body.js";
import { appEnvAtBoot, host } from "./host.js";
import { deliverBodyData, incomingBodyStream } from "./incoming-body.js";
import { cancelOutgoing, isPulledBody, pullOutgoing, startOutgoing, startOutgoingStream } from "./outgoing-body.js";
import { clipString, getOwnPropertyDescriptor, getPrototypeOf, RangeErrorPrototype, typedArrayByteLength } from "./intrinsics.js";
import { APP_GLOBAL, type Dispatch, type FlatHeaders, type HandlerFailure, type InitFailure } from "./protocol.js";
import { reportException } from "./report-exception.js";
import { createIncomingRequest } from "./request.js";
import { currentRequestId, enterRequest } from "./request-context.js";
import { isResponse, type Response, responseParts } from "./response.js";
import { fireTimer } from "./timers.js";
import { fixedLengthOf } from "./workers-streams.js";

interface App {
  /** Runs the app's fetch for one request: the default export's method, or a fresh instance's of an entry-point class. */
  invoke(request: unknown, ctx: unknown): unknown;
}

type FetchMethod = (this: unknown, ...args: unknown[]) => unknown;

/** Per-request bookkeeping until the host has been told the request is done. */
interface RequestState {
  /** Made when the app first reads request.signal or the request is aborted, not before. */
  controller: AbortController | null;
  /** waitUntil promises not yet settled. */
  pending: number;
  /** respond or fail was sent. */
  answered: boolean;
  /** waitUntilDone was sent. */
  done: boolean;
}

let app: App | null = null;
const requests = new Map<string, RequestState>();
/** Largest response body, from init; no limit here until the host gives one (it checks again anyway). */
let responseLimitBytes = Infinity;

function init(limits: unknown): "" | InitFailure {
  const limit = typeof limits === "object" && limits !== null ? (limits as { responseLimitBytes?: unknown }).responseLimitBytes : undefined;
  if (typeof limit === "number" && limit >= 0) responseLimitBytes = limit;
  const global = globalThis as unknown as Record<string, unknown>;
  const exported = global[APP_GLOBAL] as { default?: unknown } | null | undefined;
  // esbuild's IIFE declares the global with `var`: it cannot be deleted, so clear it.
  global[APP_GLOBAL] = undefined;
  try {
    delete global[APP_GLOBAL];
  } catch {
    // Non-configurable; it is undefined now, which is what matters.
  }
  if ((typeof exported !== "object" && typeof exported !== "function") || exported === null) return "no_default_export";
  const handler = exported.default as { fetch?: unknown } | null | undefined;
  if ((typeof handler !== "object" && typeof handler !== "function") || handler === null) return "no_default_export";
  // The object every request gets; process.env and cloudflare:workers' env are copies of their own, as in workerd.
  const requestEnv: Record<string, string> = { ...appEnvAtBoot };
  const classFetch = typeof handler === "function" ? (handler as { prototype?: { fetch?: unknown } }).prototype?.fetch : undefined;
  if (typeof classFetch === "function") {
    // `export default class extends WorkerEntrypoint`: as workerd, an instance per request, made with (ctx, env).
    const EntryClass = handler as unknown as new (ctx: unknown, env: unknown) => { fetch: FetchMethod };
    app = { invoke: (request, ctx) => new EntryClass(ctx, requestEnv).fetch(request) };
    return "";
  }
  const fetchMethod = handler.fetch;
  if (typeof fetchMethod !== "function") return "no_fetch_handler";
  app = { invoke: (request, ctx) => Reflect.apply(fetchMethod as FetchMethod, handler, [request, requestEnv, ctx]) };
  return "";
}

/** cloudflare:workers' waitUntil: the current request's ctx.waitUntil, or, outside any request, only reported if it fails. */
export function waitUntilForCurrentRequest(promise: unknown): void {
  const requestId = currentRequestId();
  const state = requests.get(requestId);
  if (state !== undefined && !state.done) waitUntil(requestId, state, promise);
  else Promise.resolve(promise).catch((error: unknown) => reportException(error, requestId));
}

function finishIfSettled(requestId: string, state: RequestState): void {
  if (!state.answered || state.pending > 0 || state.done) return;
  state.done = true;
  requests.delete(requestId);
  host.waitUntilDone(requestId);
}

/**
 * Mark the request answered; true if it is also over (no waitUntil work
 * pending), in which case the answer itself tells the host so.
 */
function answer(requestId: string, state: RequestState): boolean {
  state.answered = true;
  if (state.pending > 0) return false;
  state.done = true;
  requests.delete(requestId);
  return true;
}

/** The host refuses response headers past 64 KiB (sandbox/wire-response.ts); refused here before they are copied. */
const MAX_RESPONSE_HEADER_CHARS = 64 * 1024;

/** What of an error's text goes to the host (which keeps 16 Ki characters of each, after dropping prelude frames). */
const MAX_ERROR_TEXT_CHARS = 64 * 1024;

function errorFields(error: unknown): { name: string; message: string; stack: string } {
  const { name, message, stack } = rawErrorFields(error);
  return {
    name: clipString(name, MAX_ERROR_TEXT_CHARS),
    message: clipString(message, MAX_ERROR_TEXT_CHARS),
    stack: clipString(stack, MAX_ERROR_TEXT_CHARS),
  };
}

function rawErrorFields(error: unknown): { name: string; message: string; stack: string } {
  if (error instanceof Error) {
    try {
      const stack = error.stack;
      return { name: String(error.name), message: String(error.message), stack: typeof stack === "string" ? stack : "" };
    } catch {
      // A throwing getter on a tenant's error object: report what we can.
    }
  }
  let message: string;
  try {
    message = String(error);
  } catch {
    message = Object.prototype.toString.call(error);
  }
  return { name: "Error", message, stack: "" };
}

/** V8's message when the array buffer allocator refuses (for isolates, that is the memory limit). */
const ALLOCATION_FAILED = "Array buffer allocation failed";

/**
 * True for the RangeError V8 throws when an ArrayBuffer or typed array
 * cannot be allocated. Other RangeErrors about sizes are argument errors or
 * fixed V8 maxima, not the memory limit, and stay exceptions: "Invalid typed
 * array length" / "Invalid array buffer length" (a length past V8's maximum
 * or negative), "Invalid string length" (past V8's ~2^29 character maximum,
 * whatever the limit). Checked on the intrinsic prototype and an own data
 * property, so patched getters cannot make the check run tenant code in
 * the common case; a tenant forging its own allocation failure only gets its
 * own request answered 503.
 */
function isAllocationFailure(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  try {
    if (getPrototypeOf(error) !== RangeErrorPrototype) return false;
    const message = getOwnPropertyDescriptor(error, "message");
    return message !== undefined && message.value === ALLOCATION_FAILED;
  } catch {
    // A Proxy's trap threw: not one of V8's errors.
    return false;
  }
}

function sendFailure(requestId: string, state: RequestState, code: HandlerFailure, error: unknown): void {
  if (state.answered) return;
  const { name, message, stack } = errorFields(error);
  const failure = code === "exception" && isAllocationFailure(error) ? "memory" : code;
  host.fail(requestId, failure, name, message, stack, answer(requestId, state));
}

/**
 * True if `source` is certainly over the response limit. A string's length
 * cannot be faked and its UTF-8 form is at least that many bytes, so this
 * never refuses a body that fits; the host counts the exact bytes of what
 * it receives. Checking here keeps a huge body from being copied out of the
 * isolate (and a rope string from being flattened) only to be refused.
 */
function isOverResponseLimit(source: BodySource | null): boolean {
  if (source === null) return false;
  const size = typeof source === "string" ? source.length : typedArrayByteLength(source);
  return size > responseLimitBytes;
}

function sendResult(requestId: string, state: RequestState, result: unknown): void {
  if (state.answered) return;
  if (!isResponse(result)) {
    const kind = result === null ? "null" : typeof result === "object" ? Object.prototype.toString.call(result) : typeof result;
    sendFailure(requestId, state, "bad_response", new TypeError(`Incorrect type for the 'fetch' handler's return value: expected a Response, got ${kind}`));
    return;
  }
  const parts = responseParts(result);
  if (parts.type === "error") {
    sendFailure(requestId, state, "bad_response", new TypeError("The 'fetch' handler returned Response.error()"));
    return;
  }
  if (parts.bodyUsed) {
    sendFailure(requestId, state, "bad_response", new TypeError("The body of the Response returned by the 'fetch' handler has already been used"));
    return;
  }
  if (headerChars(parts.headers) > MAX_RESPONSE_HEADER_CHARS) {
    sendFailure(requestId, state, "bad_response", new TypeError(`The response headers are larger than ${MAX_RESPONSE_HEADER_CHARS} characters`));
    return;
  }
  if (parts.stream !== null) {
    // streams: an untouched fetched body goes from upstream to the client on the host.
    const fetchedCallId = takeUntouchedFetchedBody(parts.stream);
    if (fetchedCallId !== undefined) {
      host.respondWithFetchedBody(requestId, parts.status, parts.statusText, parts.headers, answer(requestId, state), fetchedCallId);
      return;
    }
    // streams: the host pulls a stream body chunk by chunk, as the client reads it (outgoing-body.ts).
    // A FixedLengthStream's readable side announces its length: Content-Length, not chunked.
    const fixedLength = fixedLengthOf(parts.stream);
    startOutgoingStream(requestId, parts.stream);
    host.respond(requestId, parts.status, parts.statusText, parts.headers, null, answer(requestId, state), fixedLength ?? -1);
    return;
  }
  if (isOverResponseLimit(parts.source)) {
    sendFailure(requestId, state, "response_too_large", new RangeError(`The response body is larger than the limit of ${responseLimitBytes} bytes`));
    return;
  }
  // The body leaves the isolate: like the network, this consumes it.
  if (parts.source !== null) takeBody(result as Response);
  if (isPulledBody(parts.source)) {
    const length = startOutgoing(requestId, parts.source);
    host.respond(requestId, parts.status, parts.statusText, parts.headers, null, answer(requestId, state), length);
    return;
  }
  host.respond(requestId, parts.status, parts.statusText, parts.headers, toWireBody(parts.source), answer(requestId, state), null);
}

/** Keeps the request alive until `promise` settles (a rejection is reported, not thrown). */
function waitUntil(requestId: string, state: RequestState, promise: unknown): void {
  state.pending++;
  const settle = (): void => {
    state.pending--;
    finishIfSettled(requestId, state);
  };
  Promise.resolve(promise).then(settle, (error: unknown) => {
    reportException(error, requestId);
    settle();
  });
}

function createContext(requestId: string, state: RequestState): object {
  return {
    waitUntil(promise: unknown): void {
      waitUntil(requestId, state, promise);
    },
    passThroughOnException(): void {
      // There is no origin behind edgehost to pass the request through to.
    },
  };
}

function handleRequest(requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null, bodyStreamed: boolean): void {
  enterRequest(requestId);
  const state: RequestState = { controller: null, pending: 0, answered: false, done: false };
  requests.set(requestId, state);
  let result: unknown;
  try {
    if (app === null) throw new Error("The app was not initialised");
    const request = createIncomingRequest(method, url, headers, body, () => controllerOf(state).signal, bodyStreamed ? () => incomingBodyStream(requestId) : null);
    result = app.invoke(request, createContext(requestId, state));
  } catch (error) {
    sendFailure(requestId, state, "exception", error);
    return;
  }
  if (isResponse(result)) {
    sendResult(requestId, state, result);
    return;
  }
  Promise.resolve(result).then(
    (value) => {
      try {
        sendResult(requestId, state, value);
      } catch (error) {
        sendFailure(requestId, state, "exception", error);
      }
    },
    (error: unknown) => sendFailure(requestId, state, "exception", error),
  );
}

function controllerOf(state: RequestState): AbortController {
  state.controller ??= new AbortController();
  return state.controller;
}

function abortRequest(requestId: string): void {
  const state = requests.get(requestId);
  if (state === undefined) return;
  enterRequest(requestId);
  // A signal read after this sees the abort: the controller is made aborted.
  controllerOf(state).abort(new DOMException("The request was aborted", "AbortError"));
}

/** The function the prelude script evaluates to; see protocol.ts. */
export const dispatch = function dispatch(kind: string, ...args: unknown[]): unknown {
  if (kind === "init") {
    enterRequest("");
    return init(args[0]);
  }
  try {
    switch (kind) {
      case "request":
        handleRequest(args[0] as string, args[1] as string, args[2] as string, args[3] as FlatHeaders, args[4] as ArrayBuffer | null, args[5] === true);
        break;
      case "abort":
        abortRequest(args[0] as string);
        break;
      case "timer":
        fireTimer(args[0] as number);
        break;
      case "fetch-result":
        deliverFetchResult(args[0] as number, args[1] as number, args[2] as string, args[3] as FlatHeaders, args[4] as ArrayBuffer | null, args[5] as string, args[6] === true);
        break;
      case "fetch-body":
        deliverFetchBody(args[0] as number, args[1] as ArrayBuffer | null, args[2] as string, args[3] as string);
        break;
      case "fetch-error":
        deliverFetchError(args[0] as number, args[1] as string, args[2] as string);
        break;
      case "digest-result":
        deliverDigestResult(args[0] as number, args[1] as string, args[2] as ArrayBuffer | null);
        break;
      case "body-pull":
        // The app's stream may run code (and fetch) as it is read: as part of its request.
        enterRequest(args[0] as string);
        pullOutgoing(args[0] as string);
        break;
      case "body-cancel":
        enterRequest(args[0] as string);
        cancelOutgoing(args[0] as string);
        break;
      case "body-data":
        deliverBodyData(args[0] as string, args[1] as ArrayBuffer | null, args[2] as string, args[3] as string);
        break;
      // WebCrypto
      case "crypto-result":
        deliverCryptoResult(args[0] as number, args[1] as string, args[2] as string, args[3]);
        break;
      default:
        reportException(new TypeError(`edgehost prelude: unknown dispatch kind "${kind}"`), "");
    }
  } catch (error) {
    if (kind === "request") {
      const requestId = args[0] as string;
      const state = requests.get(requestId);
      if (state !== undefined) {
        try {
          sendFailure(requestId, state, "exception", error);
          return undefined;
        } catch {
          // Fall through to the log.
        }
      }
    }
    reportException(error);
  }
  return undefined;
} as Dispatch;
