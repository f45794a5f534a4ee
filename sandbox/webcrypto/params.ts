/**
 * Rebuilds the arguments of a crypto operation from what came out of an
 * isolate (untrusted: the prelude converted them, but tenant code may have
 * patched what the prelude used). Only known dictionary members of known
 * types are kept, keys are looked up in the isolate's own table, and every
 * buffer is bounded; Node's webcrypto then normalises the algorithm as the
 * spec says. Each function returns a clean value or a {@link CryptoFailure},
 * never throws.
 */
import type { webcrypto } from "node:crypto";
import { MAX_CRYPTO_INPUT_BYTES, MAX_PBKDF2_ITERATIONS, MAX_RSA_MODULUS_BITS, type CryptoErrorName } from "../prelude/protocol.js";
import type { CryptoKeyTable, NodeCryptoKey } from "./key-table.js";

/** Why an operation was refused or failed, as the isolate will see it (a value, never thrown). */
export class CryptoFailure {
  constructor(
    readonly error: CryptoErrorName,
    readonly message: string,
  ) {}
}

/** A failure value. */
export function failure(error: CryptoErrorName, message: string): CryptoFailure {
  return new CryptoFailure(error, message);
}

/** True for a {@link CryptoFailure}. */
export function isFailure(value: unknown): value is CryptoFailure {
  return value instanceof CryptoFailure;
}

const NUMBER_MEMBERS = ["length", "tagLength", "iterations", "modulusLength", "saltLength"] as const;
const STRING_MEMBERS = ["namedCurve"] as const;
const BUFFER_MEMBERS = ["iv", "counter", "additionalData", "salt", "info", "publicExponent", "label"] as const;

/** Key formats the spec defines. */
export type KeyFormat = "raw" | "spki" | "pkcs8" | "jwk";

/** `value` as a key format, or a TypeError (the WebIDL enum conversion). */
export function cleanFormat(value: unknown): KeyFormat | CryptoFailure {
  switch (value) {
    case "raw":
    case "spki":
    case "pkcs8":
    case "jwk":
      return value;
    default:
      return failure("TypeError", `'${String(value).slice(0, 64)}' is not a valid key format`);
  }
}

/** `value` as a bounded ArrayBuffer. */
export function cleanBuffer(value: unknown, what: string): ArrayBuffer | CryptoFailure {
  if (!(value instanceof ArrayBuffer)) return failure("TypeError", `${what} must be a BufferSource`);
  if (value.byteLength > MAX_CRYPTO_INPUT_BYTES) return failure("QuotaExceededError", `${what} is larger than ${MAX_CRYPTO_INPUT_BYTES} bytes`);
  return value;
}

/** The boolean the prelude converted `extractable` to. */
export function cleanBoolean(value: unknown): boolean {
  return value === true;
}

/** A sequence<KeyUsage> as plain strings (Node checks the enum values). */
export function cleanUsages(value: unknown): string[] | CryptoFailure {
  if (!Array.isArray(value) || value.length > 16) return failure("TypeError", "keyUsages must be a sequence of KeyUsage");
  const usages: string[] = [];
  for (const usage of value as unknown[]) {
    if (typeof usage !== "string") return failure("TypeError", "keyUsages must be a sequence of KeyUsage");
    usages.push(usage);
  }
  return usages;
}

/** The key `id` names in this isolate's table, or InvalidAccessError. */
export function cleanKey(id: unknown, keys: CryptoKeyTable, what: string): NodeCryptoKey | CryptoFailure {
  return keys.get(id) ?? failure("InvalidAccessError", `${what} is not a CryptoKey of this isolate`);
}

/**
 * An algorithm dictionary rebuilt from `value`, with edgehost's bounds on
 * work the host does for the tenant without charging its isolate: RSA
 * moduli generated, PBKDF2 iterations.
 */
export function cleanAlgorithm(value: unknown, keys: CryptoKeyTable): Record<string, unknown> | CryptoFailure {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return failure("TypeError", "algorithm must be an object");
  const source = value as Record<string, unknown>;
  const name = source["name"];
  if (typeof name !== "string") return failure("TypeError", "algorithm.name is required");
  const clean: Record<string, unknown> = { name };
  const hash = source["hash"];
  if (hash !== undefined) {
    const hashName = typeof hash === "object" && hash !== null ? (hash as Record<string, unknown>)["name"] : undefined;
    if (typeof hashName !== "string") return failure("TypeError", "algorithm.hash must name an algorithm");
    clean["hash"] = { name: hashName };
  }
  for (const member of NUMBER_MEMBERS) {
    const number = source[member];
    if (number === undefined) continue;
    if (typeof number !== "number") return failure("TypeError", `algorithm.${member} must be a number`);
    clean[member] = number;
  }
  for (const member of STRING_MEMBERS) {
    const text = source[member];
    if (text === undefined) continue;
    if (typeof text !== "string") return failure("TypeError", `algorithm.${member} must be a string`);
    clean[member] = text;
  }
  for (const member of BUFFER_MEMBERS) {
    if (source[member] === undefined) continue;
    const buffer = cleanBuffer(source[member], `algorithm.${member}`);
    if (isFailure(buffer)) return buffer;
    clean[member] = new Uint8Array(buffer);
  }
  if (source["public"] !== undefined) {
    const key = cleanKey(source["public"], keys, "algorithm.public");
    if (isFailure(key)) return key;
    clean["public"] = key;
  }
  return boundedWork(clean) ?? clean;
}

/** A NotSupportedError for parameters that would occupy a host thread too long, else undefined. */
function boundedWork(algorithm: Record<string, unknown>): CryptoFailure | undefined {
  const name = String(algorithm["name"]).toUpperCase();
  const iterations = algorithm["iterations"];
  if (name === "PBKDF2" && typeof iterations === "number" && iterations > MAX_PBKDF2_ITERATIONS) {
    return failure("NotSupportedError", `PBKDF2 iteration counts above ${MAX_PBKDF2_ITERATIONS} are not supported (requested ${iterations})`);
  }
  const modulusLength = algorithm["modulusLength"];
  if (typeof modulusLength === "number" && modulusLength > MAX_RSA_MODULUS_BITS) {
    return failure("NotSupportedError", `RSA keys longer than ${MAX_RSA_MODULUS_BITS} bits are not generated here (requested ${modulusLength})`);
  }
  return undefined;
}

const JWK_STRING_MEMBERS = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"] as const;
/** Members holding base64url key material; Node decodes them leniently, the spec wants a DataError for anything else. */
const JWK_BASE64URL_MEMBERS: ReadonlySet<string> = new Set(["x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"]);
const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** Longest JWK member kept, characters (an RSA-16384 modulus is ~2,700). */
const MAX_JWK_MEMBER_CHARS = 16_384;

/** A JsonWebKey dictionary rebuilt from `value` (Node checks the members' meaning). */
export function cleanJwk(value: unknown): webcrypto.JsonWebKey | CryptoFailure {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return failure("TypeError", "keyData must be a JsonWebKey");
  const source = value as Record<string, unknown>;
  const jwk: Record<string, unknown> = {};
  for (const member of JWK_STRING_MEMBERS) {
    const text = source[member];
    if (text === undefined) continue;
    if (typeof text !== "string" || text.length > MAX_JWK_MEMBER_CHARS) return failure("DataError", `JWK member ${member} is invalid`);
    if (JWK_BASE64URL_MEMBERS.has(member) && !BASE64URL.test(text)) return failure("DataError", `JWK member ${member} is not base64url`);
    jwk[member] = text;
  }
  if (source["ext"] !== undefined) jwk["ext"] = source["ext"] === true;
  if (source["key_ops"] !== undefined) {
    const ops = cleanUsages(source["key_ops"]);
    if (isFailure(ops)) return failure("DataError", "JWK member key_ops is invalid");
    jwk["key_ops"] = ops;
  }
  return jwk;
}
