/**
 * Outbound fetch through the host. The prelude builds the Request, gives the
 * call a small integer id and hands method, URL, headers and body bytes to
 * host.fetchStart with the redirect mode; the outcome comes back as
 * dispatch("fetch-result") or dispatch("fetch-error"). The host follows
 * redirects ("follow"), returns a 3xx as it is ("manual") or rejects on one
 * ("error"). The call remembers its request id so the result is
 * delivered as part of the request that started it. A body that did not
 * arrive whole with the head streams in as the app reads it (fetched-body.ts).
 */
import { addAbortAlgorithm, type AbortSignal } from "./abort.js";
import { arrayBufferByteLength } from "./intrinsics.js";
import { takeBody, toWireBytes } from "./body.js";
import { exactBuffer } from "./buffer-source.js";
import { DOMException } from "./dom-exception.js";
import { fetchedBodyFactory } from "./fetched-body.js";
import { host } from "./host.js";
import type { FlatHeaders } from "./protocol.js";
import { Request, type RequestInit, type RequestParts, requestParts } from "./request.js";
import { currentRequestId, enterRequest } from "./request-context.js";
import { createFetchedResponse, isNullBodyStatus, type Response } from "./response.js";
import { readAllBytes } from "./streams-collect.js";

interface PendingFetch {
  resolve(response: Response): void;
  reject(reason: unknown): void;
  requestId: string;
  url: string;
  signal: AbortSignal;
}

/** The host's subrequest limits (sandbox/outbound-request.ts, outbound-fetch.ts), checked here first. */
const MAX_URL_CHARS = 16_384;
const MAX_HEADER_CHARS = 65_536;
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Total characters of a flat header list (indexed: the array iterator can be patched). */
export function headerChars(headers: FlatHeaders): number {
  let chars = 0;
  for (let i = 0; i < headers.length; i++) chars += (headers[i] as string).length;
  return chars;
}

const pending = new Map<number, PendingFetch>();
let lastCallId = 0;

/** The WHATWG fetch, for http: and https: URLs. */
export function fetch(input: Request | string | { toString(): string }, init?: RequestInit): Promise<Response> {
  let request: Request;
  try {
    request = new Request(input, init);
  } catch (error) {
    return Promise.reject(error);
  }
  const parts = requestParts(request);
  const signal = parts.signal;
  if (signal.aborted) return Promise.reject(signal.reason);
  if (!parts.url.startsWith("http:") && !parts.url.startsWith("https:")) {
    return Promise.reject(new TypeError(`Fetch API cannot load: ${parts.url}`));
  }
  // The host refuses these too; refusing here saves copying them onto its event loop.
  if (parts.url.length > MAX_URL_CHARS) return Promise.reject(new TypeError(`fetch: URL longer than ${MAX_URL_CHARS} characters`));
  if (headerChars(parts.headers) > MAX_HEADER_CHARS) return Promise.reject(new TypeError(`fetch: headers larger than ${MAX_HEADER_CHARS} characters`));
  const requestId = currentRequestId();
  // streams: a stream body is read whole before the fetch starts (outbound bodies are not streamed yet).
  if (parts.stream !== null) {
    return readAllBytes(parts.stream, MAX_BODY_BYTES).then((bytes) => startFetch(parts, requestId, exactBuffer(bytes)));
  }
  return startFetch(parts, requestId, parts.source === null ? null : toWireBytes(takeBody(request)));
}

function startFetch(parts: RequestParts, requestId: string, body: ArrayBuffer | null): Promise<Response> {
  if (body !== null && arrayBufferByteLength(body) > MAX_BODY_BYTES) {
    return Promise.reject(new TypeError(`fetch: request body larger than ${MAX_BODY_BYTES} bytes`));
  }
  const signal = parts.signal;
  if (signal.aborted) return Promise.reject(signal.reason);
  const callId = ++lastCallId;
  return new Promise<Response>((resolve, reject) => {
    pending.set(callId, { resolve, reject, requestId, url: parts.url, signal });
    addAbortAlgorithm(signal, () => {
      if (!pending.delete(callId)) return;
      host.fetchAbort(callId);
      reject(signal.reason);
    });
    host.fetchStart(callId, requestId, parts.method, parts.url, parts.headers, body, parts.redirect);
  });
}

/**
 * dispatch("fetch-result"): resolves the call's promise with an
 * immutable-headers Response, whose body is `body` or, with `bodyStreamed`,
 * the stream the host feeds.
 */
export function deliverFetchResult(callId: number, status: number, statusText: string, headers: FlatHeaders, body: ArrayBuffer | null, url: string, bodyStreamed: boolean): void {
  const call = pending.get(callId);
  if (call === undefined) {
    // Aborted meanwhile: nobody will read the body.
    if (bodyStreamed) host.fetchBodyCancel(callId);
    return;
  }
  pending.delete(callId);
  enterRequest(call.requestId);
  const finalUrl = url === "" ? call.url : url;
  // A null body status has no body to stream (the host sends none; this is only in case).
  if (bodyStreamed && isNullBodyStatus(status)) host.fetchBodyCancel(callId);
  const stream = bodyStreamed && !isNullBodyStatus(status) ? fetchedBodyFactory(callId, call.requestId, call.signal) : null;
  // The protocol carries only the final URL: a different one means redirects were followed.
  call.resolve(createFetchedResponse(status, statusText, headers, body, finalUrl, finalUrl !== call.url, stream));
}

/** dispatch("fetch-error"): rejects the call's promise (TypeError, or the DOMException the name says). */
export function deliverFetchError(callId: number, name: string, message: string): void {
  const call = pending.get(callId);
  if (call === undefined) return;
  pending.delete(callId);
  enterRequest(call.requestId);
  const error = name === "AbortError" || name === "TimeoutError" ? new DOMException(message, name) : new TypeError(message);
  call.reject(error);
}
