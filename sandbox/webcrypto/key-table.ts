/**
 * One isolate's WebCrypto keys: Node CryptoKey objects kept on the host and
 * named inside the isolate by small integer ids. The table belongs to one
 * isolate (ids mean nothing in another), is bounded, and is cleared when the
 * isolate is disposed. Nothing frees a key earlier: isolated-vm runs neither
 * FinalizationRegistry callbacks nor clears WeakRefs, so the prelude cannot
 * learn that a key is garbage. Imports of the same key material with the
 * same parameters share one entry instead, so an app that imports its
 * secret on every request (jose does) holds one key, not one per request.
 */
import type { webcrypto } from "node:crypto";
import type { WireCryptoKey } from "../prelude/protocol.js";

/** A key as Node's webcrypto holds it. */
export type NodeCryptoKey = webcrypto.CryptoKey;

/** The KeyAlgorithm members copied out to the isolate. */
function wireAlgorithm(algorithm: webcrypto.KeyAlgorithm): Record<string, unknown> {
  const source = algorithm as unknown as Record<string, unknown>;
  const wire: Record<string, unknown> = { name: String(source["name"]) };
  for (const member of ["length", "modulusLength"] as const) {
    if (typeof source[member] === "number") wire[member] = source[member];
  }
  if (typeof source["namedCurve"] === "string") wire["namedCurve"] = source["namedCurve"];
  const hash = source["hash"] as { name?: unknown } | undefined;
  if (typeof hash === "object" && hash !== null && typeof hash.name === "string") wire["hash"] = { name: hash.name };
  const exponent = source["publicExponent"];
  if (exponent instanceof Uint8Array) wire["publicExponent"] = exponent.slice().buffer;
  return wire;
}

/** A bounded id → key table for one isolate. */
export class CryptoKeyTable {
  readonly #keys = new Map<number, NodeCryptoKey>();
  readonly #idByFingerprint = new Map<string, number>();
  readonly #limit: number;
  #lastId = 0;
  #isCleared = false;

  /** @param limit most keys held at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Keys held now. */
  get size(): number {
    return this.#keys.size;
  }

  /** True if `count` more keys fit. */
  hasRoomFor(count: number): boolean {
    return this.#keys.size + count <= this.#limit;
  }

  /** The key named `id` (untrusted), or undefined for anything that does not name a key of this table. */
  get(id: unknown): NodeCryptoKey | undefined {
    if (typeof id !== "number" || !Number.isSafeInteger(id)) return undefined;
    return this.#keys.get(id);
  }

  /** The id already given to a key imported with `fingerprint`, if any. */
  idFor(fingerprint: string): number | undefined {
    return this.#idByFingerprint.get(fingerprint);
  }

  /**
   * Hold `key` and describe it for the isolate; undefined if the table is
   * full. With a `fingerprint` (an import), later imports of the same
   * material find it through {@link idFor}.
   */
  add(key: NodeCryptoKey, fingerprint?: string): WireCryptoKey | undefined {
    if (this.#isCleared || !this.hasRoomFor(1)) return undefined;
    const id = ++this.#lastId;
    this.#keys.set(id, key);
    if (fingerprint !== undefined) this.#idByFingerprint.set(fingerprint, id);
    return this.describe(id, key);
  }

  /** The isolate's view of key `id`. */
  describe(id: number, key: NodeCryptoKey): WireCryptoKey {
    return { id, type: key.type, extractable: key.extractable, algorithm: wireAlgorithm(key.algorithm), usages: [...key.usages] };
  }

  /** Drop every key (the isolate is gone); operations still running add none. */
  clear(): void {
    this.#isCleared = true;
    this.#keys.clear();
    this.#idByFingerprint.clear();
  }
}
