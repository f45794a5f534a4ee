/**
 * Host crypto operations from inside the isolate: cryptoStart, then
 * dispatch("crypto-result"), with at most MAX_CRYPTO_IN_FLIGHT on the host
 * and the rest queued here. Inputs are read when the method is called (the
 * spec's "get a copy of the bytes"): an operation sent at once hands the
 * host views of the tenant's bytes, which the host copies during the call;
 * a queued one keeps copies of its own.
 */
import { exactBuffer } from "../buffer-source.js";
import { DOMException } from "../dom-exception.js";
import { host } from "../host.js";
import { IntrinsicUint8Array, isArrayBuffer, typedArrayBuffer, typedArrayByteLength, typedArraySet } from "../intrinsics.js";
import { CRYPTO_ERROR_NAMES, MAX_CRYPTO_IN_FLIGHT, SYNC_CRYPTO_MAX_BYTES, type CryptoOperation } from "../protocol.js";
import { currentRequestId, enterRequest } from "../request-context.js";

/** Bytes an argument refers to; made into an ArrayBuffer when the call leaves for the host. */
export class Bytes {
  constructor(readonly view: Uint8Array) {}
}

interface Pending {
  resolve(result: unknown): void;
  reject(reason: unknown): void;
  requestId: string;
}

interface Queued {
  callId: number;
  requestId: string;
  operation: CryptoOperation;
  args: unknown[];
}

const pending = new Map<number, Pending>();
const queued: Queued[] = [];
let inFlight = 0;
let lastCallId = 0;

function bufferOf(bytes: Bytes, copy: boolean): ArrayBuffer {
  if (!copy) return exactBuffer(bytes.view);
  const own = new IntrinsicUint8Array(typedArrayByteLength(bytes.view));
  typedArraySet(own, bytes.view);
  return typedArrayBuffer(own);
}

/** `args` with every Bytes (at the top level or a member of a dictionary) as an ArrayBuffer. */
function materialise(args: unknown[], copy: boolean): unknown[] {
  const out: unknown[] = [];
  for (const arg of args) {
    if (arg instanceof Bytes) {
      out.push(bufferOf(arg, copy));
    } else if (typeof arg === "object" && arg !== null && !Array.isArray(arg)) {
      const dictionary = arg as Record<string, unknown>;
      const members: Record<string, unknown> = {};
      for (const name of Object.keys(dictionary)) {
        const value = dictionary[name];
        members[name] = value instanceof Bytes ? bufferOf(value, copy) : value;
      }
      out.push(members);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** The Web error for a host crypto failure. */
function cryptoError(name: string, message: string): Error {
  if (name === "TypeError") return new TypeError(message);
  return new DOMException(message, (CRYPTO_ERROR_NAMES as readonly string[]).includes(name) ? name : "OperationError");
}

/** Run `operation` on the host; resolves with its result as the host sent it. */
export function hostCrypto(operation: CryptoOperation, args: unknown[]): Promise<unknown> {
  const callId = ++lastCallId;
  const requestId = currentRequestId();
  return new Promise((resolve, reject) => {
    pending.set(callId, { resolve, reject, requestId });
    if (inFlight < MAX_CRYPTO_IN_FLIGHT) {
      inFlight++;
      host.cryptoStart(callId, requestId, operation, materialise(args, false));
    } else {
      queued.push({ callId, requestId, operation, args: materialise(args, true) });
    }
  });
}

/**
 * An HMAC sign (the MAC) or verify (true or false) the host answers during
 * the call, or undefined when the operation must go through
 * {@link hostCrypto}: another algorithm, larger input, or anything the host
 * does not take on its plain success path (a key without the usage, say),
 * whose error then comes from the asynchronous path.
 */
export function hmacNow(operation: "sign" | "verify", algorithm: Record<string, unknown>, keyId: number, data: Bytes, signature: Bytes | null): ArrayBuffer | boolean | undefined {
  const name = algorithm["name"];
  if (typeof name !== "string" || name.length !== 4 || name.toUpperCase() !== "HMAC") return undefined;
  if (typedArrayByteLength(data.view) > SYNC_CRYPTO_MAX_BYTES || (signature !== null && typedArrayByteLength(signature.view) > SYNC_CRYPTO_MAX_BYTES)) return undefined;
  const answer: unknown = host.cryptoSync(operation, name, keyId, exactBuffer(data.view), signature === null ? null : exactBuffer(signature.view));
  return isArrayBuffer(answer) || typeof answer === "boolean" ? answer : undefined;
}

/** dispatch("crypto-result"): settles the operation's promise and starts the next queued one. */
export function deliverCryptoResult(callId: number, error: string, message: string, result: unknown): void {
  const call = pending.get(callId);
  if (call === undefined) return;
  pending.delete(callId);
  inFlight--;
  const next = queued.shift();
  if (next !== undefined) {
    inFlight++;
    host.cryptoStart(next.callId, next.requestId, next.operation, next.args);
  }
  enterRequest(call.requestId);
  if (error === "") call.resolve(result);
  else call.reject(cryptoError(String(error), String(message)));
}
