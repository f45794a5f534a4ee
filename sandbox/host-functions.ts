import { createHash, randomBytes } from "node:crypto";
import ivm from "isolated-vm";
import type { FlatHeaders, HandlerFailure, HostFunctions, LogLevel, RequestRedirect, WireBody } from "./prelude/protocol.js";

/** The largest getRandomValues request, as in the Web Crypto spec. */
const MAX_RANDOM_BYTES = 65536;

const DIGESTS: Readonly<Record<string, string>> = {
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

/**
 * What an isolate's host calls turn into. Implemented by AppIsolate; every
 * argument here came out of tenant code and is untrusted.
 */
export interface HostCallHandlers {
  log(level: LogLevel, requestId: string, message: string): void;
  respond(requestId: string, status: number, statusText: string, headers: FlatHeaders, body: WireBody, finished: boolean): void;
  fail(requestId: string, code: HandlerFailure, name: string, message: string, stack: string, finished: boolean): void;
  waitUntilDone(requestId: string): void;
  fetchStart(callId: number, requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null, redirect: RequestRedirect): void;
  fetchAbort(callId: number): void;
  timerStart(timerId: number, requestId: string, delayMs: number): void;
  timerClear(timerId: number): void;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The two host calls that answer synchronously; pure functions of their input. */
const pureHostFunctions: Pick<HostFunctions, "randomBytes" | "digest"> = {
  randomBytes(byteLength) {
    const size = Number(byteLength);
    if (!Number.isInteger(size) || size < 0 || size > MAX_RANDOM_BYTES) {
      throw new RangeError(`randomBytes: byteLength must be an integer in [0, ${MAX_RANDOM_BYTES}]`);
    }
    return toArrayBuffer(randomBytes(size));
  },
  digest(algorithm, data) {
    const nodeName = DIGESTS[String(algorithm)];
    if (nodeName === undefined) throw new TypeError(`digest: unsupported algorithm ${String(algorithm)}`);
    if (!(data instanceof ArrayBuffer)) throw new TypeError("digest: data must be an ArrayBuffer");
    return toArrayBuffer(createHash(nodeName).update(new Uint8Array(data)).digest());
  },
};

/**
 * Wrap `handlers` as isolated-vm Callbacks in the order the prelude expects
 * (see protocol.ts). Fire-and-forget calls are `ignored`: the isolate does not
 * wait for the main thread, and an exception in a handler cannot reach
 * tenant code. Each handler is wrapped so that a bug in it is logged, never
 * thrown into isolated-vm's callback machinery.
 */
export function createHostCallbacks(handlers: HostCallHandlers, onInternalError: (error: unknown) => void): Record<keyof HostFunctions, ivm.Callback> {
  const guard = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => {
    try {
      fn(...args);
    } catch (error) {
      onInternalError(error);
    }
  };
  const ignored = { ignored: true } as const;
  return {
    log: new ivm.Callback(guard(handlers.log.bind(handlers)), ignored),
    respond: new ivm.Callback(guard(handlers.respond.bind(handlers)), ignored),
    fail: new ivm.Callback(guard(handlers.fail.bind(handlers)), ignored),
    waitUntilDone: new ivm.Callback(guard(handlers.waitUntilDone.bind(handlers)), ignored),
    fetchStart: new ivm.Callback(guard(handlers.fetchStart.bind(handlers)), ignored),
    fetchAbort: new ivm.Callback(guard(handlers.fetchAbort.bind(handlers)), ignored),
    timerStart: new ivm.Callback(guard(handlers.timerStart.bind(handlers)), ignored),
    timerClear: new ivm.Callback(guard(handlers.timerClear.bind(handlers)), ignored),
    randomBytes: new ivm.Callback(pureHostFunctions.randomBytes),
    digest: new ivm.Callback(pureHostFunctions.digest),
  };
}

export { HOST_FUNCTION_NAMES } from "./prelude/protocol.js";
