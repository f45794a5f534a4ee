/**
 * WebIDL conversion of SubtleCrypto arguments into plain data for the host:
 * AlgorithmIdentifier (a string or a dictionary; `hash` as a string or
 * `{ name }`), KeyUsage sequences, JsonWebKey, BufferSource (read through
 * intrinsics, as {@link Bytes}) and CryptoKey (as its host id). Members are
 * read once each, here; the host rebuilds and checks them again, and Node's
 * webcrypto normalises names case-insensitively as the spec says.
 */
import { isBufferSource, viewBytes } from "../buffer-source.js";
import { keyIdOf } from "../crypto-key.js";
import { Bytes } from "./calls.js";

const NUMBER_MEMBERS = ["length", "tagLength", "iterations", "modulusLength", "saltLength"];
const BUFFER_MEMBERS = ["iv", "counter", "additionalData", "salt", "info", "publicExponent", "label"];
const JWK_STRING_MEMBERS = ["kty", "use", "alg", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k"];
/** More usages than any key can have, duplicates included; a longer list is refused before it is copied. */
const MAX_USAGES = 64;

/** A BufferSource argument, or a TypeError naming it. */
export function bytesArg(value: unknown, what: string): Bytes {
  if (!isBufferSource(value)) throw new TypeError(`${what} is not of type '(ArrayBuffer or ArrayBufferView)'`);
  return new Bytes(viewBytes(value));
}

/** A CryptoKey argument as its host id, or a TypeError naming it. */
export function keyArg(value: unknown, what: string): number {
  const id = keyIdOf(value);
  if (id === undefined) throw new TypeError(`${what} is not of type 'CryptoKey'`);
  return id;
}

function hashArg(value: unknown): { name: string } {
  if (typeof value === "object" && value !== null) {
    const name = (value as { name?: unknown }).name;
    if (name === undefined) throw new TypeError("Algorithm: hash.name is required");
    return { name: String(name) };
  }
  return { name: String(value) };
}

/** An AlgorithmIdentifier as a plain dictionary of the members any algorithm defines. */
export function algorithmArg(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null) return { name: String(value) };
  const source = value as Record<string, unknown>;
  const name = source["name"];
  if (name === undefined) throw new TypeError("Algorithm: name is required");
  const algorithm: Record<string, unknown> = { name: String(name) };
  const hash = source["hash"];
  if (hash !== undefined) algorithm["hash"] = hashArg(hash);
  for (const member of NUMBER_MEMBERS) {
    const number = source[member];
    if (number !== undefined) algorithm[member] = Number(number);
  }
  const namedCurve = source["namedCurve"];
  if (namedCurve !== undefined) algorithm["namedCurve"] = String(namedCurve);
  for (const member of BUFFER_MEMBERS) {
    const bytes = source[member];
    if (bytes !== undefined) algorithm[member] = bytesArg(bytes, `Algorithm: ${member}`);
  }
  const publicKey = source["public"];
  if (publicKey !== undefined) algorithm["public"] = keyArg(publicKey, "Algorithm: public");
  return algorithm;
}

/** A sequence<KeyUsage> as strings (the host checks the values). */
export function usagesArg(value: unknown): string[] {
  if (typeof value !== "object" || value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError("keyUsages is not a sequence");
  }
  const usages: string[] = [];
  for (const usage of value as Iterable<unknown>) {
    if (usages.length === MAX_USAGES) throw new TypeError("keyUsages has too many entries");
    usages.push(String(usage));
  }
  return usages;
}

/** A JsonWebKey dictionary as plain data. */
export function jwkArg(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || isBufferSource(value)) throw new TypeError("keyData is not a JsonWebKey");
  const source = value as Record<string, unknown>;
  const jwk: Record<string, unknown> = {};
  for (const member of JWK_STRING_MEMBERS) {
    const text = source[member];
    if (text !== undefined) jwk[member] = String(text);
  }
  if (source["ext"] !== undefined) jwk["ext"] = Boolean(source["ext"]);
  if (source["key_ops"] !== undefined) jwk["key_ops"] = usagesArg(source["key_ops"]);
  return jwk;
}

/** keyData for `format`: a JsonWebKey for "jwk", else a BufferSource. */
export function keyDataArg(format: string, value: unknown): Bytes | Record<string, unknown> {
  return format === "jwk" ? jwkArg(value) : bytesArg(value, "keyData");
}
