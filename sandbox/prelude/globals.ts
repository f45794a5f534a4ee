/**
 * Installs the Web API surface on the isolate's global object and removes
 * what tenants must not have (WebAssembly, SharedArrayBuffer, Atomics).
 * Globals are writable, configurable and not enumerable, as WebIDL defines them.
 */
import { AbortController, AbortSignal } from "./abort.js";
import { atob, btoa } from "./base64.js";
import { Blob, setReadableStreamClass } from "./blob.js";
import { createConsole } from "./console.js";
import { installWorkersBridge } from "./cloudflare-workers.js";
import { createCrypto, Crypto, SubtleCrypto } from "./crypto.js";
import { CryptoKey } from "./crypto-key.js";
import { DOMException } from "./dom-exception.js";
import { CloseEvent, CustomEvent, ErrorEvent, MessageEvent, PromiseRejectionEvent } from "./event-classes.js";
import { installLazyEsBuiltins } from "./es-builtins-lazy.js";
import { Event, EventTarget } from "./event-target.js";
import { fetch } from "./fetch.js";
import { File } from "./file.js";
import { FormData } from "./form-data.js";
import { Headers } from "./headers.js";
import { registerInspectView } from "./inspect.js";
import { createPerformance, Performance, PerformanceEntry, PerformanceMark, PerformanceMeasure } from "./performance.js";
import { reportError } from "./report-exception.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { createScheduler, Scheduler } from "./scheduler.js";
import { registerPlatformClass, structuredClone } from "./structured-clone.js";
import { TextDecoder, TextEncoder } from "./text-encoding.js";
import { clearImmediate, clearInterval, clearTimeout, queueMicrotask, setImmediate, setInterval, setTimeout } from "./timers.js";
import { installLazyUrlGlobals } from "./url.js";
import { installLazyBuffer } from "./node-buffer.js";
import { createProcess } from "./process.js";
import { installLazyUrlPattern } from "./url-pattern.js";
// streams: ReadableStream and friends are accessors that load the implementation on first use.
import { installLazyStreamGlobals, streamClasses } from "./streams.js";

/** Globals removed before tenant code runs: WebAssembly memory escapes the heap limit; shared memory enables timing attacks and Atomics.wait blocks the thread. (`process` is the prelude's own, process.ts.) */
const REMOVED_GLOBALS = ["WebAssembly", "SharedArrayBuffer", "Atomics"];

/**
 * `navigator` as workerd has it: one core, "en", and its user agent,
 * "Cloudflare-Workers", which libraries compare against to detect the
 * Workers runtime (Hono's getRuntimeKey, for one) and then take their
 * Workers code paths, the ones an app written for Workers was tested on.
 */
class Navigator {
  get userAgent(): string {
    return "Cloudflare-Workers";
  }
  get hardwareConcurrency(): number {
    return 1;
  }
  get language(): string {
    return "en";
  }
  get [Symbol.toStringTag](): string {
    return "Navigator";
  }
}

/** The bundle is minified, so classes and functions lose their names: give the public ones theirs back. */
function restoreName(value: Function, name: string): void {
  if (value.name !== name) Object.defineProperty(value, "name", { value: name, configurable: true });
}

/** Puts the Web API on `globalThis` and takes the disallowed globals away. */
export function installGlobals(): void {
  const global = globalThis;
  const exposed: Record<string, Function> = {
    AbortController,
    AbortSignal,
    // Blob and File (blobs branch).
    Blob,
    CloseEvent,
    CustomEvent,
    ErrorEvent,
    File,
    MessageEvent,
    Performance,
    PerformanceEntry,
    PerformanceMark,
    PerformanceMeasure,
    PromiseRejectionEvent,
    Crypto,
    // WebCrypto
    CryptoKey,
    DOMException,
    Event,
    EventTarget,
    FormData,
    Headers,
    Request,
    Response,
    SubtleCrypto,
    TextDecoder,
    TextEncoder,
    atob,
    btoa,
    clearImmediate,
    clearInterval,
    clearTimeout,
    fetch,
    queueMicrotask,
    reportError,
    setImmediate,
    setInterval,
    setTimeout,
    structuredClone,
  };
  // One defineProperties call: defining globals one by one costs several
  // microseconds each on a fresh context.
  const descriptors: PropertyDescriptorMap = {};
  const valueOf = (value: unknown): PropertyDescriptor => ({ value, writable: true, enumerable: false, configurable: true });
  for (const name of Object.keys(exposed)) {
    const value = exposed[name] as Function;
    restoreName(value, name);
    descriptors[name] = valueOf(value);
  }
  restoreName(Navigator, "Navigator");
  descriptors["console"] = valueOf(createConsole());
  descriptors["crypto"] = valueOf(createCrypto());
  descriptors["navigator"] = valueOf(new Navigator());
  descriptors["performance"] = valueOf(createPerformance());
  descriptors["process"] = valueOf(createProcess());
  descriptors["scheduler"] = valueOf(createScheduler());
  descriptors["self"] = valueOf(global);
  // Node's name for the global object, which workerd has too and npm packages written for Node read (`global.Buffer`, `typeof global`).
  descriptors["global"] = valueOf(global);
  Object.defineProperties(global, descriptors);
  installLazyUrlGlobals(global);
  installLazyUrlPattern(global);
  installLazyBuffer(global);
  installLazyStreamGlobals(global);
  setReadableStreamClass(() => streamClasses().ReadableStream);

  for (const name of REMOVED_GLOBALS) Reflect.deleteProperty(global, name);
  installLazyEsBuiltins(global);
  installWorkersBridge(global);

  for (const ctor of [AbortController, AbortSignal, Crypto, Event, EventTarget, FormData, Headers, Performance, PerformanceEntry, Request, Response, Scheduler, SubtleCrypto, TextDecoder, TextEncoder]) {
    registerPlatformClass(ctor);
  }
  registerInspectView(Headers, (value) => Object.fromEntries(value as Headers));
  registerInspectView(FormData, (value) => Object.fromEntries(value as FormData));
  registerInspectView(Request, (value) => {
    const request = value as Request;
    return { method: request.method, url: request.url, headers: request.headers, bodyUsed: request.bodyUsed };
  });
  registerInspectView(Response, (value) => {
    const response = value as Response;
    return { status: response.status, statusText: response.statusText, headers: response.headers, bodyUsed: response.bodyUsed, ok: response.ok, url: response.url };
  });
  registerInspectView(AbortSignal, (value) => ({ aborted: (value as AbortSignal).aborted }));
}
