/**
 * crypto.getRandomValues, crypto.randomUUID and crypto.subtle.digest, backed
 * by the host's CSPRNG and hash functions (the isolate has neither).
 */
import { isBufferSource, exactBuffer, viewBytes, type BufferSource } from "./buffer-source.js";
import { DOMException } from "./dom-exception.js";
import { host } from "./host.js";

/** Most bytes getRandomValues fills in one call (Web Crypto's quota). */
const MAX_RANDOM_BYTES = 65536;
/** randomUUID draws from a pool of this many bytes, refilled by one host call. */
const UUID_POOL_BYTES = 4096;

const DIGESTS = new Set(["SHA-1", "SHA-256", "SHA-384", "SHA-512"]);

const INTEGER_ARRAYS: Function[] = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

let uuidPool = new Uint8Array(0);
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

function notSupported(operation: string): Promise<never> {
  return Promise.reject(new DOMException(`SubtleCrypto.${operation} is not supported`, "NotSupportedError"));
}

/** Constructs once; tenants cannot make more. */
const CONSTRUCT_KEY = Symbol("crypto");

/** The Web Crypto `SubtleCrypto`; only digest is implemented. */
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
      return Promise.resolve(host.digest(name, exactBuffer(viewBytes(data))));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  encrypt(): Promise<never> {
    return notSupported("encrypt");
  }
  decrypt(): Promise<never> {
    return notSupported("decrypt");
  }
  sign(): Promise<never> {
    return notSupported("sign");
  }
  verify(): Promise<never> {
    return notSupported("verify");
  }
  generateKey(): Promise<never> {
    return notSupported("generateKey");
  }
  deriveKey(): Promise<never> {
    return notSupported("deriveKey");
  }
  deriveBits(): Promise<never> {
    return notSupported("deriveBits");
  }
  importKey(): Promise<never> {
    return notSupported("importKey");
  }
  exportKey(): Promise<never> {
    return notSupported("exportKey");
  }
  wrapKey(): Promise<never> {
    return notSupported("wrapKey");
  }
  unwrapKey(): Promise<never> {
    return notSupported("unwrapKey");
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

  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    if (!INTEGER_ARRAYS.some((ctor) => array instanceof ctor)) {
      throw new DOMException("The data provided must be an integer-type TypedArray", "TypeMismatchError");
    }
    const view = array as unknown as ArrayBufferView;
    if (view.byteLength > MAX_RANDOM_BYTES) {
      throw new DOMException(
        `The ArrayBufferView's byte length (${view.byteLength}) exceeds the number of bytes of entropy available via this API (${MAX_RANDOM_BYTES})`,
        "QuotaExceededError",
      );
    }
    if (view.byteLength > 0) {
      const random = new Uint8Array(host.randomBytes(view.byteLength));
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(random);
    }
    return array;
  }

  randomUUID(): string {
    if (uuidPoolOffset + 16 > uuidPool.length) {
      uuidPool = new Uint8Array(host.randomBytes(UUID_POOL_BYTES));
      uuidPoolOffset = 0;
    }
    const b = uuidPool.subarray(uuidPoolOffset, uuidPoolOffset + 16);
    uuidPoolOffset += 16;
    // Version 4, variant 10xx (RFC 9562 section 5.4).
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const table = hexTable();
    const h = (i: number): string => table[b[i] as number] as string;
    return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
  }

  get [Symbol.toStringTag](): string {
    return "Crypto";
  }
}

/** The single `crypto` object of the isolate. */
export function createCrypto(): Crypto {
  return new Crypto(CONSTRUCT_KEY);
}
