import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { isNonPublicAddress } from "./address-policy.js";
import { SandboxError } from "./errors.js";
import type { FlatHeaders } from "./prelude/protocol.js";

/** Limits for outbound fetches made by isolates. */
export interface OutboundFetchOptions {
  /** Allow loopback, private and link-local targets (off by default). */
  readonly allowPrivate: boolean;
  /** Whole-fetch timeout in milliseconds, headers and body included. */
  readonly timeoutMs: number;
  /** Largest response body accepted, in bytes. */
  readonly maxResponseBytes: number;
}

/** A subrequest as the prelude describes it. */
export interface OutboundRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: FlatHeaders;
  readonly body: ArrayBuffer | null;
}

/** The answer handed back into the isolate. */
export interface OutboundResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: FlatHeaders;
  readonly body: ArrayBuffer | null;
  readonly url: string;
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

  /** Perform one subrequest. Rejects with SandboxError (FETCH_REFUSED / FETCH_FAILED / ABORTED). */
  async fetch(request: OutboundRequest, signal: AbortSignal): Promise<OutboundResponse> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: invalid URL ${JSON.stringify(request.url)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new SandboxError("EDGE_SANDBOX_FETCH_FAILED", `fetch failed: unsupported scheme ${url.protocol}`);
    }
    const timeout = AbortSignal.timeout(this.#options.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < request.headers.length; i += 2) {
      headers.push([request.headers[i] as string, request.headers[i + 1] as string]);
    }
    try {
      const response = await undiciFetch(url, {
        method: request.method,
        headers,
        body: request.body === null ? null : new Uint8Array(request.body),
        redirect: "follow",
        signal: combined,
        dispatcher: this.#agent,
      });
      const body = await this.#readBody(response.body, combined);
      const flat: FlatHeaders = [];
      // Spec iteration yields each set-cookie header separately.
      response.headers.forEach((value, name) => flat.push(name, value));
      return { status: response.status, statusText: response.statusText, headers: flat, body, url: response.url };
    } catch (error) {
      throw this.#translate(error, signal, timeout);
    }
  }

  async #readBody(stream: ReadableStream<Uint8Array> | null, signal: AbortSignal): Promise<ArrayBuffer | null> {
    if (stream === null) return null;
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = stream.getReader();
    for (;;) {
      signal.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > this.#options.maxResponseBytes) {
        await reader.cancel();
        throw new SandboxError(
          "EDGE_SANDBOX_FETCH_FAILED",
          `fetch failed: response body exceeds ${this.#options.maxResponseBytes} bytes`,
        );
      }
      chunks.push(value);
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
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
