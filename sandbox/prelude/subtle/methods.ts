/**
 * The SubtleCrypto methods that run on the host (all but digest): each
 * converts its arguments (params.ts), starts the host operation (calls.ts)
 * and shapes the result (keys become CryptoKey objects). Argument errors
 * reject the returned promise, as for any promise-returning WebIDL method.
 */
import { createCryptoKey, type CryptoKey } from "../crypto-key.js";
import type { WireCryptoKey } from "../protocol.js";
import { hmacNow, hostCrypto } from "./calls.js";
import { algorithmArg, bytesArg, keyArg, keyDataArg, usagesArg } from "./params.js";

/** A key or a key pair as the host described it, as CryptoKey objects. */
function toKeys(result: unknown): CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey } {
  const wire = result as WireCryptoKey | { publicKey: WireCryptoKey; privateKey: WireCryptoKey };
  if ("privateKey" in wire) return { publicKey: createCryptoKey(wire.publicKey), privateKey: createCryptoKey(wire.privateKey) };
  return createCryptoKey(wire);
}

function toKey(result: unknown): CryptoKey {
  return createCryptoKey(result as WireCryptoKey);
}

/** Runs `build` now; its exception or the host's failure rejects the promise. */
function attempt<T>(build: () => Promise<T>): Promise<T> {
  try {
    return build();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** SubtleCrypto.generateKey. */
export function generateKey(algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<unknown> {
  return attempt(() => hostCrypto("generateKey", [algorithmArg(algorithm), Boolean(extractable), usagesArg(keyUsages)]).then(toKeys));
}

/** SubtleCrypto.importKey. */
export function importKey(format: unknown, keyData: unknown, algorithm: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
  return attempt(() => {
    const name = String(format);
    return hostCrypto("importKey", [name, keyDataArg(name, keyData), algorithmArg(algorithm), Boolean(extractable), usagesArg(keyUsages)]).then(toKey);
  });
}

/** SubtleCrypto.exportKey. */
export function exportKey(format: unknown, key: unknown): Promise<unknown> {
  return attempt(() => hostCrypto("exportKey", [String(format), keyArg(key, "parameter 2")]));
}

/** SubtleCrypto.sign. A small HMAC is answered at once (hmacNow); the rest takes the asynchronous host path. */
export function sign(algorithm: unknown, key: unknown, data: unknown): Promise<unknown> {
  return attempt(() => {
    const args = [algorithmArg(algorithm), keyArg(key, "parameter 2"), bytesArg(data, "parameter 3")] as const;
    const now = hmacNow("sign", ...args, null);
    return now === undefined ? hostCrypto("sign", [...args]) : Promise.resolve(now);
  });
}

/** SubtleCrypto.verify. A small HMAC is answered at once (hmacNow); the rest takes the asynchronous host path. */
export function verify(algorithm: unknown, key: unknown, signature: unknown, data: unknown): Promise<unknown> {
  return attempt(() => {
    const parsed = [algorithmArg(algorithm), keyArg(key, "parameter 2"), bytesArg(signature, "parameter 3"), bytesArg(data, "parameter 4")] as const;
    const now = hmacNow("verify", parsed[0], parsed[1], parsed[3], parsed[2]);
    return now === undefined ? hostCrypto("verify", [...parsed]) : Promise.resolve(now);
  });
}

/** SubtleCrypto.encrypt. */
export function encrypt(algorithm: unknown, key: unknown, data: unknown): Promise<unknown> {
  return attempt(() => hostCrypto("encrypt", [algorithmArg(algorithm), keyArg(key, "parameter 2"), bytesArg(data, "parameter 3")]));
}

/** SubtleCrypto.decrypt. */
export function decrypt(algorithm: unknown, key: unknown, data: unknown): Promise<unknown> {
  return attempt(() => hostCrypto("decrypt", [algorithmArg(algorithm), keyArg(key, "parameter 2"), bytesArg(data, "parameter 3")]));
}

/** SubtleCrypto.deriveBits; `length` null (or omitted) asks for the algorithm's whole output. */
export function deriveBits(algorithm: unknown, baseKey: unknown, length: unknown): Promise<unknown> {
  return attempt(() =>
    hostCrypto("deriveBits", [algorithmArg(algorithm), keyArg(baseKey, "parameter 2"), length === undefined || length === null ? null : Number(length)]),
  );
}

/** SubtleCrypto.deriveKey. */
export function deriveKey(algorithm: unknown, baseKey: unknown, derivedKeyType: unknown, extractable: unknown, keyUsages: unknown): Promise<CryptoKey> {
  return attempt(() =>
    hostCrypto("deriveKey", [algorithmArg(algorithm), keyArg(baseKey, "parameter 2"), algorithmArg(derivedKeyType), Boolean(extractable), usagesArg(keyUsages)]).then(toKey),
  );
}

/** SubtleCrypto.wrapKey. */
export function wrapKey(format: unknown, key: unknown, wrappingKey: unknown, wrapAlgorithm: unknown): Promise<unknown> {
  return attempt(() => hostCrypto("wrapKey", [String(format), keyArg(key, "parameter 2"), keyArg(wrappingKey, "parameter 3"), algorithmArg(wrapAlgorithm)]));
}

/** SubtleCrypto.unwrapKey. */
export function unwrapKey(
  format: unknown,
  wrappedKey: unknown,
  unwrappingKey: unknown,
  unwrapAlgorithm: unknown,
  unwrappedKeyAlgorithm: unknown,
  extractable: unknown,
  keyUsages: unknown,
): Promise<CryptoKey> {
  return attempt(() =>
    hostCrypto("unwrapKey", [
      String(format),
      bytesArg(wrappedKey, "parameter 2"),
      keyArg(unwrappingKey, "parameter 3"),
      algorithmArg(unwrapAlgorithm),
      algorithmArg(unwrappedKeyAlgorithm),
      Boolean(extractable),
      usagesArg(keyUsages),
    ]).then(toKey),
  );
}
