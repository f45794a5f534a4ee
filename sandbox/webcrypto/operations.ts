/**
 * One SubtleCrypto operation on the host: arguments rebuilt from what the
 * isolate sent (params.ts), the work done by Node's webcrypto (its jobs run
 * on the libuv pool; large inputs go through LargeInputThread), and the
 * result described for the isolate. Never rejects: every outcome is a
 * result or a CryptoFailure.
 */
import { createHash, webcrypto } from "node:crypto";
import type { CryptoOperation, WireCryptoKey } from "../prelude/protocol.js";
import type { CryptoKeyTable, NodeCryptoKey } from "./key-table.js";
import { INLINE_INPUT_BYTES, LargeInputThread } from "./large-input-thread.js";
import { nodeFailure } from "./node-failure.js";
import {
  cleanAlgorithm,
  cleanBoolean,
  cleanBuffer,
  cleanFormat,
  cleanJwk,
  cleanKey,
  cleanUsages,
  failure,
  isFailure,
  type CryptoFailure,
  type KeyFormat,
} from "./params.js";

/** What an operation answers: its result (as it crosses into the isolate) or why not. */
export type CryptoOutcome = { readonly result: unknown } | CryptoFailure;

/** Largest raw, spki, pkcs8 or wrapped key, bytes (an RSA-16384 pkcs8 key is ~9.5 KiB). */
export const MAX_KEY_DATA_BYTES = 64 * 1024;

const { subtle } = webcrypto;
type Algorithm = webcrypto.Algorithm;

let largeInputs: LargeInputThread | undefined;

/** Thrown inside this module only, to leave a run with a failure; caught in runOperation. */
class Refused extends Error {
  constructor(readonly failure: CryptoFailure) {
    super(failure.message);
  }
}

function take<T>(value: T | CryptoFailure): T {
  if (isFailure(value)) throw new Refused(value);
  return value;
}

function keyBytes(value: unknown, what: string): ArrayBuffer {
  const buffer = take(cleanBuffer(value, what));
  if (buffer.byteLength > MAX_KEY_DATA_BYTES) throw new Refused(failure("QuotaExceededError", `${what} is larger than ${MAX_KEY_DATA_BYTES} bytes`));
  return buffer;
}

function keyData(format: KeyFormat, value: unknown): ArrayBuffer | webcrypto.JsonWebKey {
  if (format === "jwk") return take(cleanJwk(value));
  return keyBytes(value, "keyData");
}

function newKey(keys: CryptoKeyTable, key: NodeCryptoKey, fingerprint?: string): WireCryptoKey {
  const wire = keys.add(key, fingerprint);
  if (wire === undefined) throw new Refused(failure("QuotaExceededError", "too many CryptoKeys in this isolate"));
  return wire;
}

function needRoom(keys: CryptoKeyTable, count: number): void {
  if (!keys.hasRoomFor(count)) throw new Refused(failure("QuotaExceededError", "too many CryptoKeys in this isolate"));
}

/** Identifies an import by everything that determines the key, so identical imports share one table entry. */
function importFingerprint(format: KeyFormat, data: ArrayBuffer | webcrypto.JsonWebKey, algorithm: Record<string, unknown>, extractable: boolean, usages: string[]): string {
  const hash = createHash("sha256");
  const describe = (value: unknown): unknown => (value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value);
  const parameters = Object.entries(algorithm).map(([name, value]) => [name, describe(value)]);
  hash.update(JSON.stringify([format, parameters, extractable, [...usages].sort()]));
  hash.update(data instanceof ArrayBuffer ? new Uint8Array(data) : JSON.stringify(data));
  return hash.digest("base64");
}

async function importInto(keys: CryptoKeyTable, args: unknown[]): Promise<WireCryptoKey> {
  const format = take(cleanFormat(args[0]));
  const data = keyData(format, args[1]);
  const algorithm = take(cleanAlgorithm(args[2], keys));
  const extractable = cleanBoolean(args[3]);
  const usages = take(cleanUsages(args[4]));
  const fingerprint = importFingerprint(format, data, algorithm, extractable, usages);
  const known = keys.idFor(fingerprint);
  const knownKey = known === undefined ? undefined : keys.get(known);
  if (known !== undefined && knownKey !== undefined) return keys.describe(known, knownKey);
  needRoom(keys, 1);
  const key = await subtle.importKey(format as "raw", data as ArrayBuffer, algorithm as unknown as Algorithm, extractable, usages as webcrypto.KeyUsage[]);
  return newKey(keys, key, fingerprint);
}

/** An exported JWK as plain data (Node's object, rebuilt with its string, boolean and key_ops members). */
function wireJwk(jwk: webcrypto.JsonWebKey): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(jwk)) {
    if (typeof value === "string" || typeof value === "boolean") wire[name] = value;
    else if (name === "key_ops" && Array.isArray(value)) wire[name] = value.map(String);
  }
  return wire;
}

async function dataOperation(operation: "sign" | "verify" | "encrypt" | "decrypt", keys: CryptoKeyTable, args: unknown[]): Promise<ArrayBuffer | boolean> {
  const algorithm = take(cleanAlgorithm(args[0], keys));
  const key = take(cleanKey(args[1], keys, "key"));
  const signature = operation === "verify" ? take(cleanBuffer(args[2], "signature")) : null;
  const data = take(cleanBuffer(operation === "verify" ? args[3] : args[2], "data"));
  if (data.byteLength > INLINE_INPUT_BYTES) {
    largeInputs ??= new LargeInputThread();
    return take(await largeInputs.run(operation, algorithm, key, data, signature));
  }
  const params = algorithm as unknown as Algorithm;
  switch (operation) {
    case "sign":
      return subtle.sign(params, key, data);
    case "verify":
      return subtle.verify(params, key, signature ?? new ArrayBuffer(0), data);
    case "encrypt":
      return subtle.encrypt(params, key, data);
    case "decrypt":
      return subtle.decrypt(params, key, data);
  }
}

async function run(operation: CryptoOperation, keys: CryptoKeyTable, args: unknown[]): Promise<unknown> {
  switch (operation) {
    case "generateKey": {
      const algorithm = take(cleanAlgorithm(args[0], keys));
      needRoom(keys, 2);
      const generated = await subtle.generateKey(algorithm as unknown as webcrypto.RsaHashedKeyGenParams, cleanBoolean(args[1]), take(cleanUsages(args[2])) as webcrypto.KeyUsage[]);
      if ("privateKey" in generated) return { publicKey: newKey(keys, generated.publicKey), privateKey: newKey(keys, generated.privateKey) };
      return newKey(keys, generated);
    }
    case "importKey":
      return importInto(keys, args);
    case "exportKey": {
      const format = take(cleanFormat(args[0]));
      const key = take(cleanKey(args[1], keys, "key"));
      const exported = format === "jwk" ? await subtle.exportKey(format, key) : await subtle.exportKey(format, key);
      return exported instanceof ArrayBuffer ? exported : wireJwk(exported);
    }
    case "sign":
    case "verify":
    case "encrypt":
    case "decrypt":
      return dataOperation(operation, keys, args);
    case "deriveBits": {
      const length = args[2];
      if (length !== null && typeof length !== "number") throw new Refused(failure("TypeError", "length must be a number or null"));
      // Node 20 types `length` as a number; null (the spec's "whole output" for ECDH and X25519) works at run time.
      return subtle.deriveBits(take(cleanAlgorithm(args[0], keys)) as unknown as Algorithm, take(cleanKey(args[1], keys, "baseKey")), length as number);
    }
    case "deriveKey": {
      const algorithm = take(cleanAlgorithm(args[0], keys));
      const baseKey = take(cleanKey(args[1], keys, "baseKey"));
      const derived = take(cleanAlgorithm(args[2], keys));
      needRoom(keys, 1);
      const key = await subtle.deriveKey(algorithm as unknown as Algorithm, baseKey, derived as unknown as Algorithm, cleanBoolean(args[3]), take(cleanUsages(args[4])) as webcrypto.KeyUsage[]);
      return newKey(keys, key);
    }
    case "wrapKey": {
      const format = take(cleanFormat(args[0]));
      const key = take(cleanKey(args[1], keys, "key"));
      const wrappingKey = take(cleanKey(args[2], keys, "wrappingKey"));
      return subtle.wrapKey(format, key, wrappingKey, take(cleanAlgorithm(args[3], keys)) as unknown as Algorithm);
    }
    case "unwrapKey": {
      const format = take(cleanFormat(args[0]));
      const wrapped = keyBytes(args[1], "wrappedKey");
      const unwrappingKey = take(cleanKey(args[2], keys, "unwrappingKey"));
      const unwrapAlgorithm = take(cleanAlgorithm(args[3], keys));
      const keyAlgorithm = take(cleanAlgorithm(args[4], keys));
      needRoom(keys, 1);
      const key = await subtle.unwrapKey(
        format,
        wrapped,
        unwrappingKey,
        unwrapAlgorithm as unknown as Algorithm,
        keyAlgorithm as unknown as Algorithm,
        cleanBoolean(args[5]),
        take(cleanUsages(args[6])) as webcrypto.KeyUsage[],
      );
      return newKey(keys, key);
    }
    default:
      throw new Refused(failure("NotSupportedError", `Unrecognized operation`));
  }
}

/**
 * Run `operation` (untrusted name and arguments, from an isolate) against
 * that isolate's `keys`. Resolves with the result or why not; never rejects.
 */
export async function runOperation(operation: unknown, keys: CryptoKeyTable, args: unknown): Promise<CryptoOutcome> {
  if (!Array.isArray(args)) return failure("TypeError", "invalid arguments");
  try {
    return { result: await run(operation as CryptoOperation, keys, args as unknown[]) };
  } catch (error) {
    return error instanceof Refused ? error.failure : nodeFailure(error);
  }
}
