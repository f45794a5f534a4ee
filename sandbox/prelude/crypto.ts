/**
 * crypto.getRandomValues, crypto.randomUUID and crypto.subtle, backed by the
 * host's CSPRNG, hash functions and Node's webcrypto (the isolate has none).
 *
 * Sizes and buffers are read through intrinsics (tenant code may have
 * patched the typed-array getters), and host calls answer with a result or a
 * refusal code, never an exception (refusalError makes the Web error).
 * Digests of more than SYNC_DIGEST_MAX_BYTES run off the host's event loop:
 * digestStart, then dispatch("digest-result"), with at most
 * MAX_DIGESTS_IN_FLIGHT on the host and the rest queued here.
 */
import { byteLengthOf, copyBytes, exactBuffer, isBufferSource, viewBytes, type BufferSource } from "./buffer-source.js";
import { digestStream } from "./digest-stream.js";
import { DOMException } from "./dom-exception.js";
import { host } from "./host.js";
import { IntrinsicUint8Array, isArrayBuffer, typedArrayBuffer, typedArrayByteLength, typedArrayByteOffset, typedArrayName, typedArraySet } from "./intrinsics.js";
import { MAX_DIGEST_BYTES, MAX_DIGESTS_IN_FLIGHT, MAX_RANDOM_BYTES, SYNC_DIGEST_MAX_BYTES, type HostCallRefusal } from "./protocol.js";
import { currentRequestId, enterRequest } from "./request-context.js";
import * as subtle from "./subtle/methods.js";

/** randomUUID draws from a pool of this many bytes, refilled by one host call. */
const UUID_POOL_BYTES = 4096;

/** The digests crypto.subtle.digest takes: the SHA family and, as workerd, MD5 (for checksums such as S3 ETags, not for security). */
const DIGESTS = new Set(["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"]);

let uuidPool: Uint8Array = new IntrinsicUint8Array(0);
let uuidPoolOffset = 0;

/** Two hex digits per byte value, built on the first randomUUID call. */
let hex: string[] | null = null;

function hexTable(): string[] {
  if (hex === null) {
    hex = [];
    for (let i = 0; i < 256; i++) hex.push((i + 0x100).toString(16).slice(1));
  }
  return hex;
}

/** The Web error for a host refusal (see protocol.ts HostCallRefusal). */
function refusalError(code: HostCallRefusal | string, operation: string): Error {
  switch (code) {
    case "bad_argument":
      return new TypeError(`${operation}: invalid argument`);
    case "quota":
      return new DOMException(`${operation}: more than ${MAX_RANDOM_BYTES} bytes of entropy requested`, "QuotaExceededError");
    case "unsupported_algorithm":
      return new DOMException(`${operation}: unrecognized algorithm name`, "NotSupportedError");
    case "too_large":
      return new DOMException(`${operation}: the data is larger than ${MAX_DIGEST_BYTES} bytes`, "QuotaExceededError");
    case "busy":
      return new DOMException(`${operation}: too many digests in progress`, "QuotaExceededError");
    case "no_request":
      return new DOMException(
        `${operation}: digests of more than ${SYNC_DIGEST_MAX_BYTES} bytes are only possible while handling a request`,
        "OperationError",
      );
    default:
      return new DOMException(`${operation}: the operation failed`, "OperationError");
  }
}

interface PendingDigest {
  resolve(digest: ArrayBuffer): void;
  reject(reason: unknown): void;
  requestId: string;
}

interface QueuedDigest {
  callId: number;
  requestId: string;
  algorithm: string;
  data: ArrayBuffer;
}

const pendingDigests = new Map<number, PendingDigest>();
const queuedDigests: QueuedDigest[] = [];
let digestsInFlight = 0;
let lastDigestId = 0;

/** An asynchronous digest on the host; queued here while MAX_DIGESTS_IN_FLIGHT are out. */
function hostDigest(algorithm: string, data: BufferSource): Promise<ArrayBuffer> {
  const callId = ++lastDigestId;
  const requestId = currentRequestId();
  return new Promise<ArrayBuffer>((resolve, reject) => {
    pendingDigests.set(callId, { resolve, reject, requestId });
    if (digestsInFlight < MAX_DIGESTS_IN_FLIGHT) {
      digestsInFlight++;
      // The host copies the bytes during this call, as the spec's "get a copy of the bytes" asks.
      host.digestStart(callId, requestId, algorithm, exactBuffer(viewBytes(data)));
    } else {
      queuedDigests.push({ callId, requestId, algorithm, data: exactBuffer(copyBytes(data)) });
    }
  });
}

/** dispatch("digest-result"): settles the digest's promise and starts the next queued one. */
export function deliverDigestResult(callId: number, code: string, digest: ArrayBuffer | null): void {
  const call = pendingDigests.get(callId);
  if (call === undefined) return;
  pendingDigests.delete(callId);
  digestsInFlight--;
  const next = queuedDigests.shift();
  if (next !== undefined) {
    digestsInFlight++;
    host.digestStart(next.callId, next.requestId, next.algorithm, next.data);
  }
  enterRequest(call.requestId);
  if (code === "" && isArrayBuffer(digest)) call.resolve(digest);
  else call.reject(refusalError(code, "SubtleCrypto.digest"));
}

/** Constructs once; tenants cannot make more. */
const CONSTRUCT_KEY = Symbol("crypto");

/** The Web Crypto `SubtleCrypto`: digest here, every other method on the host (subtle/methods.ts). */
export class SubtleCrypto {
  constructor(key?: unknown) {
    if (key !== CONSTRUCT_KEY) throw new TypeError("Illegal constructor");
  }

  digest(algorithm: string | { name: string }, data: BufferSource): Promise<ArrayBuffer> {
    try {
      const name = String(typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm).toUpperCase();
      if (!DIGESTS.has(name)) {
        throw new DOMException(`Unrecognized algorithm name: ${String(name)}`, "NotSupportedError");
      }
      if (!isBufferSource(data)) throw new TypeError("SubtleCrypto.digest: data must be an ArrayBuffer or ArrayBufferView");
      const byteLength = byteLengthOf(data);
      if (byteLength > MAX_DIGEST_BYTES) throw refusalError("too_large", "SubtleCrypto.digest");
      if (byteLength > SYNC_DIGEST_MAX_BYTES) return hostDigest(name, data);
      const digest = host.digest(name, exactBuffer(viewBytes(data)));
      if (typeof digest === "string") throw refusalError(digest, "SubtleCrypto.digest");
      return Promise.resolve(digest);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * workerd's extension: compares two BufferSources of the same length in
   * time that depends only on the length (every byte is read, the
   * differences OR-ed together, no early exit), for comparing MACs and tokens.
   */
  timingSafeEqual(a: unknown, b: unknown): boolean {
    if (!isBufferSource(a)) throw new TypeError("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': parameter 1 is not of type 'BufferSource'.");
    if (!isBufferSource(b)) throw new TypeError("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': parameter 2 is not of type 'BufferSource'.");
    const left = viewBytes(a);
    const right = viewBytes(b);
    const length = byteLengthOf(a);
    if (length !== byteLengthOf(b)) throw new TypeError("Input buffers must have the same byte length.");
    let difference = 0;
    for (let index = 0; index < length; index += 1) difference |= (left[index] as number) ^ (right[index] as number);
    return difference === 0;
  }

  generateKey(algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
    return subtle.generateKey(algorithm, extractable, keyUsages);
  }
  importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
    return subtle.importKey(format, keyData, algorithm, extractable, keyUsages);
  }
  exportKey(format: unknown, key: unknown): Promise<unknown> {
    return subtle.exportKey(format, key);
  }
  sign(algorithm: unknown, key: unknown, data: unknown): Promise<unknown> {
    return subtle.sign(algorithm, key, data);
  }
  verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<unknown> {
    return subtle.verify(algorithm, key, signature, data);
  }
  encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<unknown> {
    return subtle.encrypt(algorithm, key, data);
  }
  decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<unknown> {
    return subtle.decrypt(algorithm, key, data);
  }
  deriveBits(algorithm: unknown, baseKey: unknown, length?: unknown): Promise<unknown> {
    return subtle.deriveBits(algorithm, baseKey, length);
  }
  deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
    return subtle.deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages);
  }
  wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<unknown> {
    return subtle.wrapKey(format, key, wrappingKey, wrapAlgorithm);
  }
  unwrapKey(
    format: unknown,
    wrappedKey: unknown,
    unwrappingKey: unknown,
    unwrapAlgorithm: unknown,
    unwrappedKeyAlgorithm: unknown,
    extractable: unknown,
    keyUsages: unknown,
  ): Promise<unknown> {
    return subtle.unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages);
  }

  get [Symbol.toStringTag](): string {
    return "SubtleCrypto";
  }
}

/** The Web Crypto `Crypto` object. */
export class Crypto {
  readonly #subtle: SubtleCrypto;

  constructor(key?: unknown) {
    if (key !== CONSTRUCT_KEY) throw new TypeError("Illegal constructor");
    this.#subtle = new SubtleCrypto(CONSTRUCT_KEY);
  }

  get subtle(): SubtleCrypto {
    return this.#subtle;
  }

  /** workerd's DigestStream (digest-stream.ts), made on first read: it extends the lazily loaded WritableStream. */
  get DigestStream(): Function {
    return digestStream(subtleDigest);
  }

  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    // The internal slot, not instanceof: a look-alike object has no name here.
    const name = typedArrayName(array);
    if (name === undefined || name === "Float32Array" || name === "Float64Array") {
      throw new DOMException("The data provided must be an integer-type TypedArray", "TypeMismatchError");
    }
    const view = array as unknown as ArrayBufferView;
    const byteLength = typedArrayByteLength(view);
    if (byteLength > MAX_RANDOM_BYTES) {
      throw new DOMException(
        `The ArrayBufferView's byte length (${byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES})`,
        "QuotaExceededError",
      );
    }
    if (byteLength > 0) {
      const random = host.randomBytes(byteLength);
      if (typeof random === "string") throw refusalError(random, "Crypto.getRandomValues");
      typedArraySet(new IntrinsicUint8Array(typedArrayBuffer(view), typedArrayByteOffset(view), byteLength), new IntrinsicUint8Array(random));
    }
    return array;
  }

  randomUUID(): string {
    if (uuidPoolOffset + 16 > typedArrayByteLength(uuidPool)) {
      const random = host.randomBytes(UUID_POOL_BYTES);
      if (typeof random === "string") throw refusalError(random, "Crypto.randomUUID");
      uuidPool = new IntrinsicUint8Array(random);
      uuidPoolOffset = 0;
    }
    const pool = uuidPool;
    const at = uuidPoolOffset;
    uuidPoolOffset += 16;
    // Version 4, variant 10xx (RFC 9562 section 5.4).
    pool[at + 6] = ((pool[at + 6] as number) & 0x0f) | 0x40;
    pool[at + 8] = ((pool[at + 8] as number) & 0x3f) | 0x80;
    const table = hexTable();
    const h = (i: number): string => table[pool[at + i] as number] as string;
    return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
  }

  get [Symbol.toStringTag](): string {
    return "Crypto";
  }
}

/** SubtleCrypto's digest as the prelude defined it (tenant code may replace the method on the prototype later; it does not use `this`). */
const digestMethod = SubtleCrypto.prototype.digest;
const reflectApply = Reflect.apply;
const subtleDigest = (algorithm: string, data: ArrayBuffer): Promise<ArrayBuffer> => reflectApply(digestMethod, undefined, [algorithm, data]) as Promise<ArrayBuffer>;

/** The single `crypto` object of the isolate. */
export function createCrypto(): Crypto {
  return new Crypto(CONSTRUCT_KEY);
}
