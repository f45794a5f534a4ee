import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { isNonPublicAddress } from "./address-policy.js";
import { SandboxError } from "./errors.js";
import type { HostMemoryBudget, HostMemoryReservation } from "./host-memory.js";
import type { OutboundRequest } from "./outbound-request.js";
import type { FlatHeaders } from "./prelude/protocol.js";

/** Default {@link OutboundFetchOptions.maxRequestBodyBytes}: 32 MiB. */
export const DEFAULT_SUBREQUEST_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Limits for outbound fetches made by isolates. */
export interface OutboundFetchOptions {
  /** Allow loopback, private and link-local targets (off by default). */
  readonly allowPrivate: boolean;
  /** Whole-fetch timeout in milliseconds, headers and body included. */
  readonly timeoutMs: number;
  /** Largest response body accepted, in decoded bytes. */
  readonly maxResponseBytes: number;
  /** Largest request body sent, in bytes (see DEFAULT_SUBREQUEST_BODY_LIMIT_BYTES). */
  readonly maxRequestBodyBytes: number;
  /**
   * The app's host-memory account: request bodies while they are sent and
   * response bodies while they are buffered are reserved in it.
   */
  readonly hostMemory: HostMemoryBudget;
}

/** The answer handed back into the isolate. */
export interface OutboundResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: FlatHeaders;
  readonly body: ArrayBuffer | null;
  readonly url: string;
  /**
   * The host-memory bytes the body still holds; the caller releases it once
   * the body has been copied into the isolate (or dropped).
   */
  readonly reservation: HostMemoryReservation;
}

/** Statuses that are redirects in the Fetch Standard. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

function failed(message: string): SandboxError {
  return new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: ${message}`);
}

function overBudget(budget: HostMemoryBudget): SandboxError {
  return failed(`the app's subrequest bodies would exceed its host memory limit of ${budget.limitBytes} bytes`);
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
      connect: (connectOptions, callback) => {
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
   * The request body and the buffered response body are reserved in the
   * app's host-memory budget as they are held; past the budget, past
   * `maxResponseBytes`, or on a redirect in "error" mode the fetch rejects
   * and nothing more is buffered. On success the caller owns the returned
   * reservation. Rejects with SandboxError (FETCH_REFUSED / FETCH_FAILED /
   * ABORTED).
   */
  async fetch(request: OutboundRequest, signal: AbortSignal): Promise<OutboundResponse> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw failed(`invalid URL ${JSON.stringify(request.url.slice(0, 200))}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw failed(`unsupported scheme ${url.protocol}`);
    const budget = this.#options.hostMemory;
    const reservation = budget.open();
    if (request.body !== null && !reservation.grow(request.body.byteLength)) throw overBudget(budget);
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    try {
      const response = await undiciFetch(url, {
        method: request.method,
        headers: request.headers as Array<[string, string]>,
        body: request.body === null ? null : new Uint8Array(request.body),
        // "error" is judged here, so the app reads which redirect it was refused.
        redirect: request.redirect === "follow" ? "follow" : "manual",
        signal: combined,
        dispatcher: this.#agent,
      });
      // The request body has been sent: it no longer needs host memory.
      reservation.shrink(reservation.heldBytes);
      if (request.redirect === "error" && REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get("location");
        throw failed(`redirect mode is "error" and the response was a ${response.status} redirect${location === null ? "" : ` to ${location.slice(0, 200)}`}`);
      }
      const body = await this.#readBody(response.body, combined, reservation);
      const flat: FlatHeaders = [];
      // Spec iteration yields each set-cookie header separately.
      response.headers.forEach((value, name) => flat.push(name, value));
      return { status: response.status, statusText: response.statusText, headers: flat, body, url: response.url, reservation };
    } catch (error) {
      reservation.releaseAll();
      throw this.#translate(error, signal, timeout);
    }
  }

  /**
   * Buffer a response body, reserving every decoded chunk before keeping
   * it. undici decodes gzip, deflate and brotli with zlib streams, whose
   * work runs on the libuv pool in 16 KiB steps; here the event loop only
   * collects the chunks.
   */
  async #readBody(stream: ReadableStream<Uint8Array> | null, signal: AbortSignal, reservation: HostMemoryReservation): Promise<ArrayBuffer | null> {
    if (stream === null) return null;
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = stream.getReader();
    const stop = async (error: SandboxError): Promise<never> => {
      await reader.cancel().catch(() => undefined);
      throw error;
    };
    for (;;) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.#options.maxResponseBytes) {
        return stop(failed(`response body exceeds ${this.#options.maxResponseBytes} bytes`));
      }
      if (!reservation.grow(value.byteLength)) return stop(overBudget(this.#options.hostMemory));
      chunks.push(value);
    }
    if (chunks.length === 1) {
      const only = chunks[0] as Uint8Array;
      if (only.byteOffset === 0 && only.byteLength === only.buffer.byteLength && only.buffer instanceof ArrayBuffer) return only.buffer;
    }
    // The whole body is copied once into one buffer: both are held for a moment.
    if (!reservation.grow(total)) return stop(overBudget(this.#options.hostMemory));
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    chunks.length = 0;
    reservation.shrink(total);
    return out.buffer;
  }

  #translate(error: unknown, signal: AbortSignal, timeout: AbortSignal): SandboxError {
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
    return new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: ${message}`);
  }

  /** Close pooled connections. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function describe(error: Error): string {
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
