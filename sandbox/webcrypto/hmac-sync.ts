/**
 * HMAC sign and verify of small inputs, answered during the isolate's call
 * (the `cryptoSync` host function) instead of through cryptoStart and a
 * crypto-result entry. An HMAC of a few kilobytes takes a microsecond or
 * two; the asynchronous path around it (a message to the event loop, a
 * job on the libuv pool, an entry back into the isolate) took ~25 µs.
 * Webhook signatures and HS256 JWTs are HMACs, often several per request.
 *
 * Only the plain success path is taken here: a key that is not an HMAC key
 * with the usage, an algorithm other than HMAC, or larger input answers
 * "async", and the prelude takes the asynchronous path, whose errors are
 * Node's webcrypto's. Runs on the event loop for a tenant, so the input is
 * bounded (SYNC_CRYPTO_MAX_BYTES: microseconds of work); never throws.
 */
import { createHmac, KeyObject, timingSafeEqual } from "node:crypto";
import { nodeHashName } from "../host-functions.js";
import { SYNC_CRYPTO_MAX_BYTES } from "../prelude/protocol.js";
import type { CryptoKeyTable, NodeCryptoKey } from "./key-table.js";

/** Node's KeyObject of each HMAC key, made once (KeyObject.from copies the secret out of the CryptoKey). */
const keyObjects = new WeakMap<NodeCryptoKey, KeyObject>();

function isSmallBuffer(value: unknown): value is ArrayBuffer {
  return value instanceof ArrayBuffer && value.byteLength <= SYNC_CRYPTO_MAX_BYTES;
}

/**
 * The HMAC of `data` (sign) or whether `signature` is it (verify) under key
 * `keyId` of `keys`, or "async" for anything but the plain success path.
 * Every argument came from an isolate and is checked.
 */
export function hmacSync(keys: CryptoKeyTable, operation: unknown, algorithmName: unknown, keyId: unknown, data: unknown, signature: unknown): ArrayBuffer | boolean | "async" {
  if (operation !== "sign" && operation !== "verify") return "async";
  // Algorithm names are matched case-insensitively (WebCrypto's normalisation).
  if (typeof algorithmName !== "string" || algorithmName.toUpperCase() !== "HMAC") return "async";
  if (!isSmallBuffer(data) || (operation === "verify" && !isSmallBuffer(signature))) return "async";
  const key = keys.get(keyId);
  if (key === undefined || key.type !== "secret" || !key.usages.includes(operation)) return "async";
  const algorithm = key.algorithm as { name?: unknown; hash?: { name?: unknown }; length?: unknown };
  const hash = nodeHashName(algorithm.hash?.name);
  // A key length that is not whole bytes: Node's webcrypto decides what it means.
  if (algorithm.name !== "HMAC" || hash === undefined || typeof algorithm.length !== "number" || algorithm.length % 8 !== 0) return "async";
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = KeyObject.from(key);
    keyObjects.set(key, keyObject);
  }
  const mac = createHmac(hash, keyObject).update(new Uint8Array(data)).digest();
  if (operation === "sign") return mac.buffer.slice(mac.byteOffset, mac.byteOffset + mac.byteLength);
  const expected = new Uint8Array(signature as ArrayBuffer);
  return expected.byteLength === mac.byteLength && timingSafeEqual(expected, mac);
}
