/** Request per the Fetch Standard (bodies whole or streams; see body.ts). */
import { AbortSignal, createAbortSignal } from "./abort.js";
import {
  Body,
  type BodyInit,
  type BodySource,
  bodySource,
  bodyStream,
  cloneBodyInto,
  extractBody,
  hasBody,
  isBodyUsed,
  setBodySource,
  setBodyStream,
  setExtractedBody,
  setLazyBodyStream,
  takeBody,
} from "./body.js";
import { appendHeaderUnchecked, flattenHeaders, Headers, type HeadersInit, headersFromFlat, headersGuard, setHeadersGuard } from "./headers.js";
import type { FlatHeaders } from "./protocol.js";
import { isStreamLocked, type ReadableStream, streamClasses } from "./streams.js";
import { parseAbsoluteUrl } from "./url.js";

/** Options of the Request constructor (and of fetch). */
export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit | null;
  redirect?: RequestRedirect;
  signal?: AbortSignal | null;
  /** Required ("half") when `body` is a ReadableStream. */
  duplex?: "half";
  cf?: unknown;
}

/** How a fetch treats redirects. */
export type RequestRedirect = "follow" | "error" | "manual";

/** What fetch hands to the host for a Request. */
export interface RequestParts {
  method: string;
  url: string;
  headers: FlatHeaders;
  source: BodySource | null;
  /** The body's stream when the body is a stream (source is null then). */
  stream: ReadableStream | null;
  redirect: RequestRedirect;
  signal: AbortSignal;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NORMALISED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const REDIRECT_MODES = new Set(["follow", "error", "manual"]);

/** Accessors for dispatch and fetch; assigned in the class's static block. */
export let requestParts: (request: Request) => RequestParts;
/** The request as the host hands it in; `streamedBody` means the host streams the body (see incoming-body.ts). */
export let createIncomingRequest: (
  method: string,
  url: string,
  headers: FlatHeaders,
  body: ArrayBuffer | null,
  signal: () => AbortSignal,
  streamedBody: (() => ReadableStream) | null,
) => Request;

function normaliseMethod(value: unknown): string {
  const method = String(value);
  if (!TOKEN.test(method)) throw new TypeError(`Request: invalid method "${method}"`);
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`Request: method "${method}" is forbidden`);
  return NORMALISED_METHODS.has(upper) ? upper : method;
}

/** Internal construction path that skips parsing (host input is already valid). */
const INTERNAL = Symbol("Request");

/** An HTTP request. */
export class Request extends Body {
  #method = "GET";
  #url = "";
  #headers!: Headers;
  /** null until first read, for an incoming request: most apps never read it, and an AbortSignal costs several objects. */
  #signal: AbortSignal | null = null;
  #makeSignal: (() => AbortSignal) | null = null;
  #redirect: RequestRedirect = "follow";
  #cf: unknown = undefined;

  static {
    requestParts = (request) => ({
      method: request.#method,
      url: request.#url,
      headers: flattenHeaders(request.#headers),
      source: bodySource(request),
      stream: bodyStream(request),
      redirect: request.#redirect,
      signal: request.#ownSignal(),
    });
    createIncomingRequest = (method, url, headers, body, signal, streamedBody) => {
      const request = new Request(INTERNAL as unknown as string);
      request.#method = method;
      request.#url = url;
      request.#headers = headersFromFlat(headers, "immutable");
      request.#makeSignal = signal;
      // As in workerd: a proxying app that passes the request to fetch() gets a redirect back rather than following it.
      request.#redirect = "manual";
      if (streamedBody !== null) setLazyBodyStream(request, streamedBody);
      else if (body !== null && method !== "GET" && method !== "HEAD") setBodySource(request, new Uint8Array(body));
      return request;
    };
  }

  constructor(input: Request | string | { toString(): string }, init: RequestInit = {}) {
    super();
    if ((input as unknown) === INTERNAL) return;
    if (init !== null && typeof init !== "object") throw new TypeError("Request: init must be an object");
    const options = init ?? {};
    const inputRequest = input instanceof Request ? input : null;
    this.#url = inputRequest !== null ? inputRequest.#url : parseAbsoluteUrl(String(input));
    this.#method = options.method !== undefined ? normaliseMethod(options.method) : (inputRequest !== null ? inputRequest.#method : "GET");

    if (options.redirect !== undefined) {
      const redirect = String(options.redirect);
      if (!REDIRECT_MODES.has(redirect)) throw new TypeError(`Request: invalid redirect mode "${redirect}"`);
      this.#redirect = redirect as RequestRedirect;
    } else if (inputRequest !== null) this.#redirect = inputRequest.#redirect;

    const sourceSignal = options.signal !== undefined ? options.signal : (inputRequest !== null ? inputRequest.#ownSignal() : null);
    if (sourceSignal !== null && !(sourceSignal instanceof AbortSignal)) throw new TypeError("Request: signal must be an AbortSignal");
    this.#signal = sourceSignal === null ? createAbortSignal() : AbortSignal.any([sourceSignal]);
    this.#cf = "cf" in options ? options.cf : inputRequest !== null ? inputRequest.#cf : undefined;

    const headersInit = options.headers !== undefined ? options.headers : inputRequest !== null ? inputRequest.#headers : undefined;
    this.#headers = new Headers(headersInit);

    const initBody = options.body;
    const hasInitBody = initBody !== undefined && initBody !== null;
    const inputHasBody = inputRequest !== null && hasBody(inputRequest);
    if ((hasInitBody || (inputHasBody && initBody === undefined)) && (this.#method === "GET" || this.#method === "HEAD")) {
      throw new TypeError("Request with GET/HEAD method cannot have body.");
    }
    if (hasInitBody) {
      const extracted = extractBody(initBody);
      if (extracted.stream !== null && options.duplex !== "half") {
        throw new TypeError("Request: the duplex option must be \"half\" when the body is a ReadableStream");
      }
      setExtractedBody(this, extracted);
      if (extracted.contentType !== null && !this.#headers.has("content-type")) {
        appendHeaderUnchecked(this.#headers, "content-type", extracted.contentType);
      }
    } else if (inputHasBody && initBody === undefined) {
      // The input's body moves to the new request; the input counts as used.
      const inputStream = bodyStream(inputRequest);
      if (inputStream === null) setBodySource(this, takeBody(inputRequest));
      else {
        if (isBodyUsed(inputRequest) || isStreamLocked(inputStream)) throw new TypeError("Request: the input request's body has already been used");
        // The Fetch Standard's "proxy": the new request reads the input's stream through an identity transform.
        setBodyStream(this, inputStream.pipeThrough(new (streamClasses().TransformStream)<Uint8Array, Uint8Array>()));
      }
    }
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return this.#headers;
  }

  get redirect(): RequestRedirect {
    return this.#redirect;
  }

  get signal(): AbortSignal {
    return this.#ownSignal();
  }

  #ownSignal(): AbortSignal {
    if (this.#signal === null) {
      this.#signal = (this.#makeSignal as () => AbortSignal)();
      this.#makeSignal = null;
    }
    return this.#signal;
  }

  /** Cloudflare's request metadata; undefined here unless set through init. */
  get cf(): unknown {
    return this.#cf;
  }

  get keepalive(): boolean {
    return false;
  }

  get integrity(): string {
    return "";
  }

  get duplex(): "half" {
    return "half";
  }

  clone(): Request {
    const stream = bodyStream(this);
    if (isBodyUsed(this) || (stream !== null && isStreamLocked(stream))) throw new TypeError("Request.clone: body has already been used");
    const copy = new Request(INTERNAL as unknown as string);
    copy.#method = this.#method;
    copy.#url = this.#url;
    copy.#headers = new Headers(this.#headers);
    setHeadersGuard(copy.#headers, headersGuard(this.#headers));
    copy.#signal = AbortSignal.any([this.#ownSignal()]);
    copy.#redirect = this.#redirect;
    copy.#cf = this.#cf;
    cloneBodyInto(this, copy);
    return copy;
  }

  get [Symbol.toStringTag](): string {
    return "Request";
  }
}
