import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import type { Duplex } from "node:stream";
import { Agent, buildConnector, type Dispatcher, fetch as undiciFetch } from "undici";
import { isNonPublicAddress } from "./address-policy.js";
import { isOutboundHostAllowed, type OutboundHostRule } from "./outbound-allow.js";
import { contentCodings, DECODE_CHUNK_BYTES, decodeBody, MAX_CONTENT_CODINGS } from "./content-decoding.js";
import { SandboxError } from "./errors.js";
import { FetchedBody } from "./fetched-body.js";
import type { HostMemoryBudget, HostMemoryReservation } from "./host-memory.js";
import type { OutboundRequest } from "./outbound-request.js";
import type { FlatHeaders } from "./prelude/protocol.js";

/** Default {@link OutboundFetchOptions.maxRequestBodyBytes}: 32 MiB. */
export const DEFAULT_SUBREQUEST_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Limits for outbound fetches made by isolates. */
export interface OutboundFetchOptions {
  /** Allow loopback, private and link-local targets (off by default). */
  readonly allowPrivate: boolean;
  /** Hosts the app may fetch (`outbound.allow`); undefined = any public host. */
  readonly allowHosts?: readonly OutboundHostRule[] | undefined;
  /**
   * Milliseconds until the response head is in (the connection, the
   * request body and the head); after it, the longest wait for the next
   * chunk of the body. A streamed body may take as long as its reader needs.
   */
  readonly timeoutMs: number;
  /** Largest response body accepted, in decoded bytes (streamed bodies are cut there). */
  readonly maxResponseBytes: number;
  /** Largest request body sent, in bytes (see DEFAULT_SUBREQUEST_BODY_LIMIT_BYTES). */
  readonly maxRequestBodyBytes: number;
  /**
   * The app's host-memory account: request bodies while they are sent and
   * response bodies while the host holds them are reserved in it.
   */
  readonly hostMemory: HostMemoryBudget;
}

/** The answer handed back into the isolate. */
export interface OutboundResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: FlatHeaders;
  /** The body when it arrived whole and small (see WHOLE_FETCH_BODY_MAX_BYTES); null for none or a stream. */
  readonly body: ArrayBuffer | null;
  /** The body when it streams: the caller pulls it, and cancels it when done with it. */
  readonly stream: FetchedBody | null;
  readonly url: string;
  /**
   * The host-memory bytes of a whole `body`: the caller releases it once the
   * body has been copied into the isolate (or dropped). A `stream` owns its
   * reservation itself.
   */
  readonly reservation: HostMemoryReservation;
}

/** How the host's decoding of a content-encoded response body is accounted for (see FetchedBodyOptions). */
export interface DecodingAccount {
  /** Told of every decoded chunk, bytes; an error stops the body with it (FetchedBodyOptions.chargeDecoded). */
  charge(bytes: number): SandboxError | undefined;
  /** How long the next read, and so the next piece of decoding, waits, ms (FetchedBodyOptions.readDelayMs). */
  readDelayMs(): number;
}

/** Statuses that are redirects in the Fetch Standard. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

function failed(message: string): SandboxError {
  return new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: ${message}`);
}

function overBudget(budget: HostMemoryBudget): SandboxError {
  return failed(`the app's subrequest bodies would exceed its host memory limit of ${budget.limitBytes} bytes`);
}

function notAllowed(host: string): SandboxError {
  return new SandboxError("EDGE_SANDBOX_FETCH_REFUSED", `fetch to ${host} refused: the host is not in this app's outbound.allow list`);
}

function refused(target: string): SandboxError {
  return new SandboxError(
    "EDGE_SANDBOX_FETCH_REFUSED",
    `fetch to ${target} refused: loopback, private and link-local addresses are not reachable from apps (start with --allow-private-fetch to allow)`,
  );
}

/**
 * Outbound fetch for isolates, on Node's own fetch implementation (undici).
 * The address check sits in the connector, so it applies to the address
 * actually connected to: DNS answers that point inward (rebinding) and
 * redirects to internal hosts are refused the same as literal addresses.
 */
export class OutboundFetcher {
  readonly #options: OutboundFetchOptions;
  readonly #agent: Agent;

  constructor(options: OutboundFetchOptions) {
    this.#options = options;
    const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
      dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error, "", 0);
        const usable = options.allowPrivate ? addresses : addresses.filter((a) => !isNonPublicAddress(a.address));
        if (usable.length === 0) return callback(refused(hostname), "", 0);
        if (lookupOptions.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
        const first = usable[0] as LookupAddress;
        callback(null, first.address, first.family);
      });
    };
    const baseConnect = buildConnector({ lookup: guardedLookup, timeout: options.timeoutMs });
    this.#agent = new Agent({
      // An upstream that goes quiet mid-body is cut after this; the head has its own deadline in fetch().
      bodyTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      connect: (connectOptions, callback) => {
        // Every hop of a redirect comes through here: the allow list holds for each.
        if (options.allowHosts !== undefined && !isOutboundHostAllowed(connectOptions.hostname, options.allowHosts)) {
          callback(notAllowed(connectOptions.hostname), null);
          return;
        }
        const host = connectOptions.hostname.replace(/^\[|\]$/g, "");
        if (!options.allowPrivate && isIP(host) !== 0 && isNonPublicAddress(host)) {
          callback(refused(host), null);
          return;
        }
        baseConnect(connectOptions, callback);
      },
    });
  }

  /**
   * Perform one subrequest (already checked by validateOutboundRequest).
   * The request body is reserved in the app's host-memory budget while it is
   * sent. The response comes back once its head is in: with its body whole
   * if that arrived with the head (at most WHOLE_FETCH_BODY_MAX_BYTES, still
   * reserved: the caller owns the returned reservation), otherwise as a
   * FetchedBody that reads upstream only as the isolate pulls. Rejects with
   * SandboxError (FETCH_REFUSED / FETCH_FAILED / ABORTED), also on a
   * redirect in "error" mode.
   */
  /**
   * `decoding` accounts for, and paces, the decoding of a content-encoded
   * response body (see DecodingAccount).
   */
  async fetch(request: OutboundRequest, signal: AbortSignal, decoding?: DecodingAccount): Promise<OutboundResponse> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw failed(`invalid URL ${JSON.stringify(request.url.slice(0, 200))}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw failed(`unsupported scheme ${url.protocol}`);
    // Before any DNS lookup or connection.
    if (this.#options.allowHosts !== undefined && !isOutboundHostAllowed(url.hostname, this.#options.allowHosts)) throw notAllowed(url.hostname);
    const budget = this.#options.hostMemory;
    const reservation = budget.open();
    if (request.body !== null && !reservation.grow(request.body.byteLength)) throw overBudget(budget);
    // The deadline covers the head only: a streamed body must not be cut
    // after timeoutMs while its reader is still taking it (undici's
    // bodyTimeout bounds a silent upstream instead).
    const headDeadline = new AbortController();
    const timer = setTimeout(() => headDeadline.abort(), this.#options.timeoutMs);
    const combined = AbortSignal.any([signal, headDeadline.signal]);
    // undici's fetch would decode the body itself, in 16 KiB pieces on the
    // event loop; it does not when it never sees the content-encoding.
    const received: ReceivedEncoding = { contentEncoding: undefined };
    const dispatcher = this.#agent.compose((dispatch) => (options, handler) => dispatch(options, new EncodingTaker(handler, received)));
    try {
      const response = await undiciFetch(url, {
        method: request.method,
        headers: request.headers as Array<[string, string]>,
        body: request.body === null ? null : new Uint8Array(request.body),
        // "error" is judged here, so the app reads which redirect it was refused.
        redirect: request.redirect === "follow" ? "follow" : "manual",
        signal: combined,
        dispatcher,
      });
      // The request body has been sent: it no longer needs host memory.
      reservation.shrink(reservation.heldBytes);
      if (request.redirect === "error" && REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get("location");
        throw failed(`redirect mode is "error" and the response was a ${response.status} redirect${location === null ? "" : ` to ${location.slice(0, 200)}`}`);
      }
      const flat: FlatHeaders = [];
      // Spec iteration yields each set-cookie header separately.
      response.headers.forEach((value, name) => flat.push(name, value));
      if (received.contentEncoding !== undefined) insertSorted(flat, "content-encoding", received.contentEncoding);
      const head = { status: response.status, statusText: response.statusText, headers: flat, url: response.url, reservation };
      if (response.body === null) return { ...head, body: null, stream: null };
      const codings = hasDecodableBody(request.method, response.status) ? contentCodings(received.contentEncoding) : { kind: "none" as const };
      if (codings.kind === "too-many") {
        await response.body.cancel().catch(() => undefined);
        throw failed(`too many content-encodings in response: ${codings.count}, maximum allowed is ${MAX_CONTENT_CODINGS}`);
      }
      const decoded = codings.kind === "decode";
      let source = response.body;
      if (decoded) {
        // The decoders' own pieces (DECODE_CHUNK_BYTES, about two per
        // coding) are host memory too, held until the body is over.
        const decoderBytes = codings.codings.length * 2 * DECODE_CHUNK_BYTES;
        if (!reservation.grow(decoderBytes)) {
          await response.body.cancel().catch(() => undefined);
          throw overBudget(budget);
        }
        source = decodeBody(response.body, codings.codings, { onClose: () => reservation.shrink(decoderBytes) });
      }
      // Each coding's decoder produces about as many bytes as the last one
      // (its output is the next one's input, which deflate and brotli
      // expand by at most a few bytes per block): a stacked body is charged
      // for every layer.
      const layers = decoded ? codings.codings.length : 0;
      const stream = new FetchedBody({
        source,
        reservation,
        limitBytes: this.#options.maxResponseBytes,
        overBudget: () => overBudget(budget),
        translate: (error) => this.#translate(error, signal, headDeadline.signal, "the response body"),
        chargeDecoded: decoded && decoding !== undefined ? (bytes) => decoding.charge(bytes * layers) : undefined,
        readDelayMs: decoded && decoding !== undefined ? () => decoding.readDelayMs() : undefined,
        decoded,
      });
      // A decoded body always streams: only the streamed path knows, when the
      // app passes the response on untouched, that its content-encoding no
      // longer describes the bytes (respondWithFetchedBody drops it).
      const whole = decoded ? undefined : await stream.takeWhole(0);
      if (whole !== undefined) return { ...head, body: whole, stream: null };
      return { ...head, body: null, stream };
    } catch (error) {
      reservation.releaseAll();
      throw this.#translate(error, signal, headDeadline.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `what` names the part that failed when it is not the fetch as a whole. */
  #translate(error: unknown, signal: AbortSignal, timeout: AbortSignal, what?: string): SandboxError {
    if (error instanceof SandboxError) return error;
    if (signal.aborted) return new SandboxError("EDGE_SANDBOX_ABORTED", "fetch aborted");
    if (timeout.aborted) {
      return new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: timed out after ${this.#options.timeoutMs} ms`);
    }
    // undici wraps connector errors in a TypeError("fetch failed") with a cause.
    let cause: unknown = error;
    while (cause instanceof Error) {
      if (cause instanceof SandboxError) return cause;
      cause = cause.cause;
    }
    const message = error instanceof Error ? describe(error) : String(error);
    return new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: ${what === undefined ? "" : `${what}: `}${message}`);
  }

  /** Close pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** The content-encoding of the response a fetch ended with (the last hop of its redirects). */
interface ReceivedEncoding {
  contentEncoding: string | undefined;
}

/**
 * Takes the content-encoding header out of every response head before
 * undici's fetch reads it (so that fetch passes the body on as sent) and
 * keeps its value, the values of repeated headers joined as fetch joins
 * them, for outbound fetch to decode with (content-decoding.ts).
 */
class EncodingTaker implements Dispatcher.DispatchHandlers {
  readonly #handler: Dispatcher.DispatchHandlers;
  readonly #received: ReceivedEncoding;

  constructor(handler: Dispatcher.DispatchHandlers, received: ReceivedEncoding) {
    this.#handler = handler;
    this.#received = received;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#handler.onConnect?.(abort);
  }

  onError(error: Error): void {
    this.#handler.onError?.(error);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.#handler.onUpgrade?.(statusCode, headers, socket);
  }

  onResponseStarted(): void {
    this.#handler.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    // Informational heads (100, 103) are not the response; fetch skips them.
    if (statusCode < 200) return this.#handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
    const kept: Buffer[] = [];
    const values: string[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as Buffer;
      const value = headers[i + 1] as Buffer;
      if (name.length === 16 && name.toString("latin1").toLowerCase() === "content-encoding") values.push(value.toString("latin1"));
      else kept.push(name, value);
    }
    this.#received.contentEncoding = values.length === 0 ? undefined : values.join(", ");
    return this.#handler.onHeaders?.(statusCode, kept, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.#handler.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.#handler.onComplete?.(trailers);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.#handler.onBodySent?.(chunkSize, totalBytesSent);
  }
}

/** Statuses whose response has no body in the Fetch Standard (undici does not decode them). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

/** True if a response to `method` with `status` has a body that content codings apply to, as undici judged. */
function hasDecodableBody(method: string, status: number): boolean {
  return method !== "HEAD" && method !== "CONNECT" && !NULL_BODY_STATUSES.has(status);
}

/** Insert a header into name-sorted flat headers (as Headers iterates them), after any of the same name. */
function insertSorted(flat: FlatHeaders, name: string, value: string): void {
  let at = 0;
  while (at < flat.length && (flat[at] as string) <= name) at += 2;
  flat.splice(at, 0, name, value);
}

function describe(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
