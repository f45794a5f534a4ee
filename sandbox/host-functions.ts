import { createHash, randomFillSync } from "node:crypto";
import ivm from "isolated-vm";
// streams: sources of lazily loaded prelude modules.
import { lazyModuleSource } from "./prelude-lazy-modules.js";
import {
  MAX_DIGEST_BYTES,
  MAX_RANDOM_BYTES,
  SYNC_DIGEST_MAX_BYTES,
  type CryptoOperation,
  type FlatHeaders,
  type HandlerFailure,
  type HostCallRefusal,
  type HostFunctions,
  type LogLevel,
  type RequestRedirect,
  type WireBody,
} from "./prelude/protocol.js";

/** Node's name for each Web Crypto digest algorithm. */
export type NodeHashName = "sha1" | "sha256" | "sha384" | "sha512" | "md5";

/**
 * Node's hash name for a Web Crypto algorithm name, or undefined. A switch,
 * not an object lookup: "constructor" or "__proto__" from an isolate must
 * not find anything.
 */
export function nodeHashName(algorithm: unknown): NodeHashName | undefined {
  switch (algorithm) {
    case "SHA-1":
      return "sha1";
    case "SHA-256":
      return "sha256";
    case "SHA-384":
      return "sha384";
    case "SHA-512":
      return "sha512";
    // workerd's extension, for checksums (S3 ETags, Content-MD5).
    case "MD5":
      return "md5";
    default:
      return undefined;
  }
}

/**
 * What an isolate's host calls turn into. Implemented by AppIsolate; every
 * argument here came out of tenant code and is untrusted.
 */
export interface HostCallHandlers {
  log(level: LogLevel, requestId: string, message: string): void;
  respond(requestId: string, status: number, statusText: string, headers: FlatHeaders, body: WireBody, finished: boolean, pulledLength: unknown): void;
  respondWithFetchedBody(requestId: string, status: number, statusText: string, headers: FlatHeaders, finished: boolean, callId: unknown): void;
  bodyChunk(requestId: string, chunk: unknown, done: unknown): void;
  requestBodyPull(requestId: string): void;
  requestBodyCancel(requestId: string): void;
  fail(requestId: string, code: HandlerFailure, name: string, message: string, stack: string, finished: boolean): void;
  waitUntilDone(requestId: string): void;
  fetchStart(callId: number, requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null, redirect: RequestRedirect): void;
  fetchAbort(callId: number): void;
  fetchBodyPull(callId: number): void;
  fetchBodyCancel(callId: number): void;
  timerStart(timerId: number, requestId: string, delayMs: number): void;
  timerClear(timerId: number): void;
  digestStart(callId: number, requestId: string, algorithm: string, data: ArrayBuffer): void;
  // WebCrypto
  cryptoStart(callId: number, requestId: string, operation: CryptoOperation, args: unknown[]): void;
  cryptoSync(operation: unknown, algorithmName: unknown, keyId: unknown, data: unknown, signature: unknown): ArrayBuffer | boolean | "async";
}

/** `byteLength` random bytes, or why not. Never throws for any input. */
export function randomBytesOrRefusal(byteLength: unknown): ArrayBuffer | HostCallRefusal {
  if (typeof byteLength !== "number" || !Number.isInteger(byteLength) || byteLength < 0) return "bad_argument";
  if (byteLength > MAX_RANDOM_BYTES) return "quota";
  return randomFillSync(new Uint8Array(byteLength)).buffer;
}

/** Why `data` cannot be digested with `algorithm` at most `maxBytes` long, or undefined if it can. */
export function digestRefusal(algorithm: unknown, data: unknown, maxBytes: number): HostCallRefusal | undefined {
  if (nodeHashName(algorithm) === undefined) return "unsupported_algorithm";
  if (!(data instanceof ArrayBuffer)) return "bad_argument";
  if (data.byteLength > maxBytes) return "too_large";
  return undefined;
}

/** The small synchronous digest (at most SYNC_DIGEST_MAX_BYTES: tens of microseconds), or why not. */
export function digestOrRefusal(algorithm: unknown, data: unknown): ArrayBuffer | HostCallRefusal {
  const refusal = digestRefusal(algorithm, data, SYNC_DIGEST_MAX_BYTES);
  if (refusal !== undefined) return refusal;
  const digest = createHash(nodeHashName(algorithm) as NodeHashName).update(new Uint8Array(data as ArrayBuffer)).digest();
  return toArrayBuffer(digest);
}

/** The largest digest input digestStart accepts, bytes (see protocol.ts). */
export const MAX_ASYNC_DIGEST_BYTES = MAX_DIGEST_BYTES;

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Wrap `handlers` as isolated-vm Callbacks in the order the prelude expects
 * (see protocol.ts). Fire-and-forget calls are `ignored`: the isolate does not
 * wait for the main thread. No callback ever throws: isolated-vm would copy
 * a host error, stack and file paths included, into the isolate. A bug in a
 * handler is logged through `onInternalError`; a synchronous call then
 * answers "internal", which the prelude turns into an OperationError.
 */
export function createHostCallbacks(handlers: HostCallHandlers, onInternalError: (error: unknown) => void): Record<keyof HostFunctions, ivm.Callback> {
  const guard = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A): void => {
    try {
      fn(...args);
    } catch (error) {
      onInternalError(error);
    }
  };
  const answer = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R | HostCallRefusal => {
    try {
      return fn(...args);
    } catch (error) {
      onInternalError(error);
      return "internal";
    }
  };
  const ignored = { ignored: true } as const;
  return {
    log: new ivm.Callback(guard(handlers.log.bind(handlers)), ignored),
    respond: new ivm.Callback(guard(handlers.respond.bind(handlers)), ignored),
    respondWithFetchedBody: new ivm.Callback(guard(handlers.respondWithFetchedBody.bind(handlers)), ignored),
    bodyChunk: new ivm.Callback(guard(handlers.bodyChunk.bind(handlers)), ignored),
    requestBodyPull: new ivm.Callback(guard(handlers.requestBodyPull.bind(handlers)), ignored),
    requestBodyCancel: new ivm.Callback(guard(handlers.requestBodyCancel.bind(handlers)), ignored),
    fail: new ivm.Callback(guard(handlers.fail.bind(handlers)), ignored),
    waitUntilDone: new ivm.Callback(guard(handlers.waitUntilDone.bind(handlers)), ignored),
    fetchStart: new ivm.Callback(guard(handlers.fetchStart.bind(handlers)), ignored),
    fetchAbort: new ivm.Callback(guard(handlers.fetchAbort.bind(handlers)), ignored),
    fetchBodyPull: new ivm.Callback(guard(handlers.fetchBodyPull.bind(handlers)), ignored),
    fetchBodyCancel: new ivm.Callback(guard(handlers.fetchBodyCancel.bind(handlers)), ignored),
    timerStart: new ivm.Callback(guard(handlers.timerStart.bind(handlers)), ignored),
    timerClear: new ivm.Callback(guard(handlers.timerClear.bind(handlers)), ignored),
    digestStart: new ivm.Callback(guard(handlers.digestStart.bind(handlers)), ignored),
    // WebCrypto
    cryptoStart: new ivm.Callback(guard(handlers.cryptoStart.bind(handlers)), ignored),
    cryptoSync: new ivm.Callback(answer(handlers.cryptoSync.bind(handlers))),
    randomBytes: new ivm.Callback(answer(randomBytesOrRefusal)),
    digest: new ivm.Callback(answer(digestOrRefusal)),
    // streams: sources of lazily loaded prelude modules.
    loadModule: new ivm.Callback(answer(lazyModuleSource)),
  };
}

export { HOST_FUNCTION_NAMES } from "./prelude/protocol.js";
