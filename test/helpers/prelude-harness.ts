/**
 * A real isolate (isolated-vm) running dist/sandbox/prelude.js with host
 * functions built from Node's crypto and timers, for the prelude's own tests.
 * The production host side lives in sandbox/; this harness only implements
 * the protocol (sandbox/prelude/protocol.ts) closely enough to test the
 * prelude against it.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ivm from "isolated-vm";
import { lazyModuleSource } from "../../sandbox/prelude-lazy-modules.js";
// structuredClone transfer (blobs): the same V8 flags as production isolates.
import "../../sandbox/v8-flags.js";
import { HOST_APP_ENV, MAX_CRYPTO_IN_FLIGHT, MAX_CRYPTO_KEYS, type FlatHeaders, type HandlerFailure, type LogLevel, type WireBody } from "../../sandbox/prelude/protocol.js";
import { CryptoJobs } from "../../sandbox/webcrypto/crypto-jobs.js";

/** dist/ is two levels above this compiled file (dist/test/helpers). */
const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Path of the built prelude script. */
export const preludePath = path.join(distRoot, "sandbox", "prelude.js");

let preludeSource: string | undefined;
/** The built prelude, read once per process. */
export function preludeScript(): string {
  preludeSource ??= readFileSync(preludePath, "utf8");
  return preludeSource;
}

/** What the prelude answered for one request. */
export type Outcome =
  /**
   * `bodyFailed` is set when a pulled body did not complete: "error" when
   * the prelude said the body failed, "limit" past the harness's pull cap
   * (PULL_LIMIT_BYTES; the real host cuts at the response limit).
   */
  | {
      kind: "respond";
      status: number;
      statusText: string;
      headers: FlatHeaders;
      body: WireBody;
      bodyFailed?: "error" | "limit";
      /** streams: the body is fetch `fetchedBody`'s, passed through untouched (host respondWithFetchedBody). */
      fetchedBody?: number;
    }
  | { kind: "fail"; code: HandlerFailure; name: string; message: string; stack: string };

/** One console line the prelude sent to the host. */
export interface LogLine {
  level: LogLevel;
  requestId: string;
  message: string;
}

/** An outbound fetch as the host received it. */
export interface FetchCall {
  callId: number;
  requestId: string;
  method: string;
  url: string;
  headers: FlatHeaders;
  body: ArrayBuffer | null;
}

/** How the harness answers an outbound fetch. */
export type FetchReply =
  | {
      status: number;
      statusText?: string;
      headers?: FlatHeaders;
      body?: ArrayBuffer | null;
      url?: string;
      /**
       * streams: a streamed body instead of `body`: one chunk per pull, then
       * the end (or the error `failWith`); with `holdAfter`, pulls after
       * that many chunks get no answer.
       */
      chunks?: ArrayBuffer[];
      holdAfter?: number;
      failWith?: string;
    }
  | { error: { name: string; message: string } }
  /** Never answer (for abort tests). */
  | "hang";

/** A timer the prelude started, as the host saw it. */
export interface TimerCall {
  timerId: number;
  requestId: string;
  delayMs: number;
}

export interface HarnessOptions {
  /** Script that assigns `var __edgehost_app = { default: { fetch } }` (or omits it, for init failures). */
  appSource?: string;
  env?: Record<string, string>;
  fetch?: (call: FetchCall) => FetchReply | Promise<FetchReply>;
  /** Per-entry timeout in ms (default 2000). */
  timeoutMs?: number;
}

interface Waiter<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function waiter<T>(): Waiter<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One isolate with the prelude and an app loaded. */
/** A pulled body longer than this stops the harness's pulls (the host's real cut is the response limit). */
const PULL_LIMIT_BYTES = 8 * 1024 * 1024;

export class PreludeHarness {
  readonly logs: LogLine[] = [];
  readonly fetchCalls: FetchCall[] = [];
  readonly abortedFetches: number[] = [];
  /** streams: fetchBodyPull and fetchBodyCancel calls, by call id, in order. */
  readonly fetchBodyPulls: number[] = [];
  readonly cancelledFetchBodies: number[] = [];
  readonly timerCalls: TimerCall[] = [];
  /** The names the prelude asked loadModule for, in order. */
  readonly loadedModules: string[] = [];
  /** Order of host calls per request id, e.g. ["respond", "waitUntilDone"]. */
  readonly events: Array<{ requestId: string; event: "respond" | "fail" | "finished" | "waitUntilDone" }> = [];
  /** Errors from dispatch calls the harness made on its own (timers, fetch results). */
  readonly backgroundErrors: unknown[] = [];
  initResult = "";
  /** The isolate's WebCrypto keys and operations (sandbox/webcrypto). */
  readonly crypto = new CryptoJobs({ maxInFlight: MAX_CRYPTO_IN_FLIGHT, maxBytesHeld: 256 * 1024 * 1024, maxKeys: MAX_CRYPTO_KEYS });

  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #options: HarnessOptions;
  #dispatch: ivm.Reference<(...args: unknown[]) => unknown> | null = null;
  readonly #outcomes = new Map<string, Waiter<Outcome>>();
  readonly #done = new Map<string, Waiter<void>>();
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** streams: streamed fetch bodies still to hand over, by call id. */
  readonly #fetchBodies = new Map<number, { chunks: ArrayBuffer[]; holdAfter: number; sent: number; failWith: string | undefined }>();
  /** Pulled response bodies being collected, by request id. */
  readonly #pulling = new Map<string, { chunks: Buffer[]; bytes: number; done: (whole: ArrayBuffer, bodyFailed?: "error" | "limit") => void }>();
  readonly #logWaiters: Array<{ test: (line: LogLine) => boolean; resolve(line: LogLine): void }> = [];
  #nextRequest = 0;
  #disposed = false;

  private constructor(isolate: ivm.Isolate, context: ivm.Context, options: HarnessOptions) {
    this.#isolate = isolate;
    this.#context = context;
    this.#options = options;
  }

  /** Creates the isolate, installs host functions, runs prelude and app, and calls init. */
  static async create(options: HarnessOptions = {}): Promise<PreludeHarness> {
    const isolate = new ivm.Isolate({ memoryLimit: 128 });
    const context = await isolate.createContext();
    const harness = new PreludeHarness(isolate, context, options);
    try {
      await harness.#boot();
    } catch (error) {
      harness.dispose();
      throw error;
    }
    return harness;
  }

  get isolate(): ivm.Isolate {
    return this.#isolate;
  }

  async #boot(): Promise<void> {
    const ignored = { ignored: true } as const;
    const host = {
      log: new ivm.Callback((level: LogLevel, requestId: string, message: string) => this.#onLog({ level, requestId, message }), ignored),
      randomBytes: new ivm.Callback((byteLength: number) => {
        const bytes = randomBytes(byteLength);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      }),
      digest: new ivm.Callback((algorithm: string, data: ArrayBuffer) => {
        const hash = createHash(algorithm.replace("-", "").toLowerCase()).update(new Uint8Array(data)).digest();
        return hash.buffer.slice(hash.byteOffset, hash.byteOffset + hash.byteLength);
      }),
      digestStart: new ivm.Callback((callId: number, _requestId: string, algorithm: string, data: ArrayBuffer) => {
        const hash = createHash(algorithm.replace("-", "").toLowerCase()).update(new Uint8Array(data)).digest();
        this.#dispatchInBackground("digest-result", callId, "", hash.buffer.slice(hash.byteOffset, hash.byteOffset + hash.byteLength));
      }, ignored),
      // WebCrypto: the production host implementation, one key table per harness isolate.
      cryptoSync: new ivm.Callback((operation: unknown, algorithmName: unknown, keyId: unknown, data: unknown, signature: unknown) =>
        this.crypto.signSync(operation, algorithmName, keyId, data, signature),
      ),
      cryptoStart: new ivm.Callback((callId: number, _requestId: string, operation: string, args: unknown[]) => {
        void this.crypto.start(operation, args).then((outcome) => {
          if ("result" in outcome) this.#dispatchInBackground("crypto-result", callId, "", "", outcome.result);
          else this.#dispatchInBackground("crypto-result", callId, outcome.error, outcome.message, null);
        });
      }, ignored),
      respond: new ivm.Callback(
        (requestId: string, status: number, statusText: string, headers: FlatHeaders, body: WireBody, finished: boolean, pulledLength: number | null) => {
          this.events.push({ requestId, event: "respond" });
          if (pulledLength === null) this.#outcome(requestId).resolve({ kind: "respond", status, statusText, headers, body });
          else {
            // A large body stays in the isolate: pull it as the host does, then report it whole.
            this.#pulling.set(requestId, {
              chunks: [],
              bytes: 0,
              done: (whole, bodyFailed) =>
                this.#outcome(requestId).resolve({ kind: "respond", status, statusText, headers, body: whole, ...(bodyFailed ? { bodyFailed } : {}) }),
            });
            this.#dispatchInBackground("body-pull", requestId);
          }
          if (finished) this.#finished(requestId);
        },
        ignored,
      ),
      respondWithFetchedBody: new ivm.Callback(
        (requestId: string, status: number, statusText: string, headers: FlatHeaders, finished: boolean, callId: number) => {
          this.events.push({ requestId, event: "respond" });
          this.#outcome(requestId).resolve({ kind: "respond", status, statusText, headers, body: null, fetchedBody: callId });
          if (finished) this.#finished(requestId);
        },
        ignored,
      ),
      // The harness hands bodies in whole; streamed request bodies are tested end to end.
      requestBodyPull: new ivm.Callback(() => undefined, ignored),
      requestBodyCancel: new ivm.Callback(() => undefined, ignored),
      bodyChunk: new ivm.Callback((requestId: string, chunk: ArrayBuffer | string | null, done: boolean) => {
        const pull = this.#pulling.get(requestId);
        if (pull === undefined) return;
        if (chunk !== null) {
          const bytes = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
          pull.chunks.push(bytes);
          pull.bytes += bytes.byteLength;
        }
        const failed = chunk === null && !done ? "error" : pull.bytes > PULL_LIMIT_BYTES ? "limit" : undefined;
        if (done || failed !== undefined) {
          this.#pulling.delete(requestId);
          if (failed === "limit") this.#dispatchInBackground("body-cancel", requestId);
          const whole = Buffer.concat(pull.chunks);
          pull.done(whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength), failed);
        } else this.#dispatchInBackground("body-pull", requestId);
      }, ignored),
      fail: new ivm.Callback(
        (requestId: string, code: HandlerFailure, name: string, message: string, stack: string, finished: boolean) => {
          this.events.push({ requestId, event: "fail" });
          this.#outcome(requestId).resolve({ kind: "fail", code, name, message, stack });
          if (finished) this.#finished(requestId);
        },
        ignored,
      ),
      waitUntilDone: new ivm.Callback((requestId: string) => {
        this.events.push({ requestId, event: "waitUntilDone" });
        this.#doneWaiter(requestId).resolve();
      }, ignored),
      fetchStart: new ivm.Callback(
        (callId: number, requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null) => {
          this.#onFetch({ callId, requestId, method, url, headers, body }).catch((error: unknown) => this.#recordError(error));
        },
        ignored,
      ),
      fetchAbort: new ivm.Callback((callId: number) => {
        this.abortedFetches.push(callId);
      }, ignored),
      fetchBodyPull: new ivm.Callback((callId: number) => {
        this.fetchBodyPulls.push(callId);
        const body = this.#fetchBodies.get(callId);
        if (body === undefined) {
          this.#dispatchInBackground("fetch-body", callId, null, "error", "no such body in the harness");
          return;
        }
        if (body.sent >= body.holdAfter) return;
        const chunk = body.chunks[body.sent++];
        if (chunk === undefined) {
          this.#fetchBodies.delete(callId);
          if (body.failWith === undefined) this.#dispatchInBackground("fetch-body", callId, null, "end", "");
          else this.#dispatchInBackground("fetch-body", callId, null, "error", body.failWith);
        } else this.#dispatchInBackground("fetch-body", callId, chunk, "data", "");
      }, ignored),
      fetchBodyCancel: new ivm.Callback((callId: number) => {
        this.cancelledFetchBodies.push(callId);
        this.#fetchBodies.delete(callId);
      }, ignored),
      timerStart: new ivm.Callback((timerId: number, requestId: string, delayMs: number) => {
        this.timerCalls.push({ timerId, requestId, delayMs });
        const timer = setTimeout(() => {
          this.#timers.delete(timerId);
          this.#dispatchInBackground("timer", timerId);
        }, delayMs);
        this.#timers.set(timerId, timer);
      }, ignored),
      timerClear: new ivm.Callback((timerId: number) => {
        clearTimeout(this.#timers.get(timerId));
        this.#timers.delete(timerId);
      }, ignored),
      // streams: the production host's lazy module sources.
      loadModule: new ivm.Callback((name: string) => {
        this.loadedModules.push(String(name));
        return lazyModuleSource(name);
      }),
    };
    const names = Object.keys(host);
    // As the production host: the app's env goes along with the host functions.
    await this.#context.evalClosure(
      `globalThis.__edgehost_host = { ${names.map((name, i) => `${name}: $${i}`).join(", ")}, ${HOST_APP_ENV}: $${names.length} };`,
      [...Object.values(host), new ivm.ExternalCopy({ ...(this.#options.env ?? {}) }).copyInto({ release: true })],
    );
    const script = await this.#isolate.compileScript(preludeScript(), { filename: "edgehost:prelude" });
    this.#dispatch = (await script.run(this.#context, { reference: true, timeout: this.#timeoutMs })) as ivm.Reference<(...args: unknown[]) => unknown>;
    script.release();
    if (this.#options.appSource !== undefined) {
      await this.#context.eval(this.#options.appSource, { filename: "app.js", timeout: this.#timeoutMs });
    }
    this.initResult = (await this.dispatch("init")) as string;
  }

  get #timeoutMs(): number {
    return this.#options.timeoutMs ?? 2000;
  }

  #outcome(requestId: string): Waiter<Outcome> {
    let entry = this.#outcomes.get(requestId);
    if (entry === undefined) {
      entry = waiter<Outcome>();
      this.#outcomes.set(requestId, entry);
    }
    return entry;
  }

  /** respond/fail said the request is over: no waitUntilDone will follow. */
  #finished(requestId: string): void {
    this.events.push({ requestId, event: "finished" });
    this.#doneWaiter(requestId).resolve();
  }

  #doneWaiter(requestId: string): Waiter<void> {
    let entry = this.#done.get(requestId);
    if (entry === undefined) {
      entry = waiter<void>();
      this.#done.set(requestId, entry);
    }
    return entry;
  }

  #onLog(line: LogLine): void {
    this.logs.push(line);
    for (let i = this.#logWaiters.length - 1; i >= 0; i--) {
      const entry = this.#logWaiters[i];
      if (entry !== undefined && entry.test(line)) {
        this.#logWaiters.splice(i, 1);
        entry.resolve(line);
      }
    }
  }

  async #onFetch(call: FetchCall): Promise<void> {
    this.fetchCalls.push(call);
    const handler = this.#options.fetch;
    let reply: FetchReply;
    try {
      reply = handler === undefined ? { error: { name: "TypeError", message: "no fetch handler in harness" } } : await handler(call);
    } catch (error) {
      reply = { error: { name: "TypeError", message: error instanceof Error ? error.message : String(error) } };
    }
    if (reply === "hang") return;
    if ("error" in reply) {
      await this.dispatch("fetch-error", call.callId, reply.error.name, reply.error.message);
      return;
    }
    if (reply.chunks !== undefined) {
      this.#fetchBodies.set(call.callId, { chunks: reply.chunks, holdAfter: reply.holdAfter ?? Infinity, sent: 0, failWith: reply.failWith });
      await this.dispatch("fetch-result", call.callId, reply.status, reply.statusText ?? "", reply.headers ?? [], null, reply.url ?? call.url, true);
      return;
    }
    await this.dispatch("fetch-result", call.callId, reply.status, reply.statusText ?? "", reply.headers ?? [], reply.body ?? null, reply.url ?? call.url, false);
  }

  /** Calls dispatch(kind, ...args) with copied arguments; resolves with its copied result. */
  async dispatch(kind: string, ...args: unknown[]): Promise<unknown> {
    if (this.#disposed || this.#dispatch === null) return undefined;
    try {
      return await this.#dispatch.apply(undefined, [kind, ...args], { arguments: { copy: true }, result: { copy: true }, timeout: this.#timeoutMs });
    } catch (error) {
      // A timer or fetch result racing dispose() is expected; anything else is not.
      if (this.#disposed) return undefined;
      throw error;
    }
  }

  #recordError(error: unknown): void {
    this.backgroundErrors.push(error);
  }

  #dispatchInBackground(kind: string, ...args: unknown[]): void {
    this.dispatch(kind, ...args).catch((error: unknown) => this.#recordError(error));
  }

  /** Sends a request; resolves with what the prelude answered (respond or fail). */
  async request(method: string, url: string, headers: FlatHeaders = [], body: ArrayBuffer | null = null): Promise<Outcome & { requestId: string }> {
    const requestId = `r${++this.#nextRequest}`;
    const outcome = this.#outcome(requestId).promise;
    await this.dispatch("request", requestId, method, url, headers, body);
    return { ...(await outcome), requestId };
  }

  /** Starts a request without waiting for its outcome; use outcome()/done() to wait. */
  async start(method: string, url: string, headers: FlatHeaders = [], body: ArrayBuffer | null = null): Promise<string> {
    const requestId = `r${++this.#nextRequest}`;
    this.#outcome(requestId);
    await this.dispatch("request", requestId, method, url, headers, body);
    return requestId;
  }

  /** The respond/fail outcome of `requestId`. */
  outcome(requestId: string): Promise<Outcome> {
    return this.#outcome(requestId).promise;
  }

  /** Resolves when the request is over: respond/fail said `finished`, or waitUntilDone(requestId) came. */
  done(requestId: string): Promise<void> {
    return this.#doneWaiter(requestId).promise;
  }

  /** Resolves with the first log line (already sent or future) that passes `test`. */
  waitForLog(test: (line: LogLine) => boolean): Promise<LogLine> {
    const existing = this.logs.find(test);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => this.#logWaiters.push({ test, resolve }));
  }

  /** Evaluates `code` in the isolate's context (promises awaited) and copies the result out. */
  async evaluate<T = unknown>(code: string): Promise<T> {
    return (await this.#context.eval(code, { promise: true, copy: true, timeout: this.#timeoutMs, filename: "test.js" })) as T;
  }

  /** Cancels host timers and disposes the isolate. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#dispatch?.release();
    this.#context.release();
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }
}

/** Runs `body` with a fresh harness and disposes it afterwards, also on failure. */
export async function withPrelude<T>(options: HarnessOptions, body: (harness: PreludeHarness) => Promise<T>): Promise<T> {
  const harness = await PreludeHarness.create(options);
  try {
    return await body(harness);
  } finally {
    harness.dispose();
  }
}

/** An app script whose default export's fetch is `fetchSource` (a function expression). */
export function appWithFetch(fetchSource: string, prelude = ""): string {
  return `var __edgehost_app = (() => { ${prelude}\n return { default: { fetch: ${fetchSource} } }; })();`;
}

/** Bytes of `text` as an ArrayBuffer. */
export function bufferOf(text: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(text);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** The body of an outcome as text (strings as they are, ArrayBuffers as UTF-8). */
export function bodyText(outcome: Outcome): string | null {
  if (outcome.kind !== "respond" || outcome.body === null) return null;
  return typeof outcome.body === "string" ? outcome.body : new TextDecoder().decode(outcome.body);
}

/**
 * One harness shared by the tests of a file (for API tests that do not
 * depend on isolate state): created before the first test, disposed after the
 * last. Returns an evaluator for code in that isolate.
 */
export function sharedPrelude(hooks: { before(fn: () => Promise<void>): void; after: { always(fn: () => void): void } }, options: HarnessOptions = {}): <T = unknown>(code: string) => Promise<T> {
  let harness: PreludeHarness | undefined;
  hooks.before(async () => {
    harness = await PreludeHarness.create(options);
  });
  hooks.after.always(() => harness?.dispose());
  return async <T>(code: string) => {
    if (harness === undefined) throw new Error("shared prelude harness is not ready");
    return harness.evaluate<T>(code);
  };
}
