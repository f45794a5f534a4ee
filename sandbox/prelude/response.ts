/** Response per the Fetch Standard (bodies whole or streams; see body.ts). */
import { Body, type BodyInit, type BodySource, bodySource, bodyStream, cloneBodyInto, extractBody, isBodyUsed, setBodySource, setExtractedBody, setLazyBodyStream } from "./body.js";
import { appendHeaderUnchecked, flattenHeaders, Headers, type HeadersInit, headersFromFlat, setHeadersGuard } from "./headers.js";
import { IntrinsicUint8Array } from "./intrinsics.js";
import type { FlatHeaders } from "./protocol.js";
import { isStreamLocked, type ReadableStream } from "./streams.js";
import { parseAbsoluteUrl } from "./url.js";

/** Options of the Response constructor. */
export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

/** The Fetch Standard's response types that can occur here. */
export type ResponseType = "default" | "basic" | "error";

/** What the dispatcher sends to the host for a Response. */
export interface ResponseParts {
  status: number;
  statusText: string;
  headers: FlatHeaders;
  source: BodySource | null;
  /** The body's stream when the body is a stream (source is null then). */
  stream: ReadableStream | null;
  type: ResponseType;
  bodyUsed: boolean;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** True for the Fetch Standard's null body statuses (their responses never have a body). */
export function isNullBodyStatus(status: number): boolean {
  return NULL_BODY_STATUSES.has(status);
}

/** Accessors for dispatch and fetch; assigned in the class's static block. */
export let responseParts: (response: Response) => ResponseParts;
/** A fetch's Response: its body is `body`, or the stream `streamedBody` makes when first needed (null-body statuses get neither). */
export let createFetchedResponse: (
  status: number,
  statusText: string,
  headers: FlatHeaders,
  body: ArrayBuffer | null,
  url: string,
  redirected: boolean,
  streamedBody: (() => ReadableStream) | null,
) => Response;
export let isResponse: (value: unknown) => value is Response;

/** WebIDL `unsigned short` conversion (wraps modulo 2^16). */
function toUnsignedShort(value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  const integer = Math.trunc(number) % 65536;
  return integer < 0 ? integer + 65536 : integer;
}

/** An HTTP response. */
export class Response extends Body {
  #status = 200;
  #statusText = "";
  #headers: Headers;
  #type: ResponseType = "default";
  #url = "";
  #redirected = false;

  static {
    responseParts = (response) => ({
      status: response.#status,
      statusText: response.#statusText,
      headers: flattenHeaders(response.#headers),
      source: bodySource(response),
      stream: bodyStream(response),
      type: response.#type,
      bodyUsed: isBodyUsed(response),
    });
    createFetchedResponse = (status, statusText, headers, body, url, redirected, streamedBody) => {
      const response = new Response(null);
      response.#status = status;
      response.#statusText = statusText;
      response.#headers = headersFromFlat(headers, "immutable");
      response.#type = "basic";
      response.#url = url;
      response.#redirected = redirected;
      if (NULL_BODY_STATUSES.has(status)) return response;
      if (streamedBody !== null) setLazyBodyStream(response, streamedBody);
      else if (body !== null) setBodySource(response, new IntrinsicUint8Array(body));
      return response;
    };
    isResponse = (value): value is Response => typeof value === "object" && value !== null && #status in value;
  }

  constructor(body: BodyInit | null = null, init: ResponseInit = {}) {
    super();
    if (init !== null && typeof init !== "object") throw new TypeError("Response: init must be an object");
    const options = init ?? {};
    if (options.status !== undefined) {
      const status = toUnsignedShort(options.status);
      if (status < 200 || status > 599) {
        throw new RangeError(`Response: status must be in the range 200 to 599, got ${String(options.status)}`);
      }
      this.#status = status;
    }
    if (options.statusText !== undefined) {
      const statusText = String(options.statusText);
      if (!REASON_PHRASE.test(statusText)) throw new TypeError(`Response: invalid statusText "${statusText}"`);
      this.#statusText = statusText;
    }
    this.#headers = new Headers(options.headers);
    if (body !== null && body !== undefined) {
      if (NULL_BODY_STATUSES.has(this.#status)) {
        throw new TypeError(`Response with null body status ${this.#status} cannot have a body`);
      }
      const extracted = extractBody(body);
      setExtractedBody(this, extracted);
      if (extracted.contentType !== null && !this.#headers.has("content-type")) {
        appendHeaderUnchecked(this.#headers, "content-type", extracted.contentType);
      }
    }
  }

  static error(): Response {
    const response = new Response(null);
    response.#status = 0;
    response.#type = "error";
    setHeadersGuard(response.#headers, "immutable");
    return response;
  }

  static redirect(url: string, status = 302): Response {
    const location = parseAbsoluteUrl(String(url));
    const code = toUnsignedShort(status);
    if (!REDIRECT_STATUSES.has(code)) throw new RangeError(`Response.redirect: invalid redirect status ${String(status)}`);
    const response = new Response(null, { status: code });
    appendHeaderUnchecked(response.#headers, "location", location);
    setHeadersGuard(response.#headers, "immutable");
    return response;
  }

  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Response.json: the data is not JSON-serializable");
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    const options: ResponseInit = { headers };
    if (init?.status !== undefined) options.status = init.status;
    if (init?.statusText !== undefined) options.statusText = init.statusText;
    return new Response(text, options);
  }

  get type(): ResponseType {
    return this.#type;
  }

  get url(): string {
    return this.#url;
  }

  get redirected(): boolean {
    return this.#redirected;
  }

  get status(): number {
    return this.#status;
  }

  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }

  get statusText(): string {
    return this.#statusText;
  }

  get headers(): Headers {
    return this.#headers;
  }

  /** Always null: WebSocket upgrades are not supported yet (Workers' extension). */
  get webSocket(): null {
    return null;
  }

  clone(): Response {
    const stream = bodyStream(this);
    if (isBodyUsed(this) || (stream !== null && isStreamLocked(stream))) throw new TypeError("Response.clone: body has already been used");
    const copy = new Response(null);
    copy.#status = this.#status;
    copy.#statusText = this.#statusText;
    copy.#headers = new Headers(this.#headers);
    if (this.#type !== "default") setHeadersGuard(copy.#headers, "immutable");
    copy.#type = this.#type;
    copy.#url = this.#url;
    copy.#redirected = this.#redirected;
    cloneBodyInto(this, copy);
    return copy;
  }

  get [Symbol.toStringTag](): string {
    return "Response";
  }
}
