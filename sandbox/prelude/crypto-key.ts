/**
 * The Web Crypto `CryptoKey`. The key itself stays on the host; an instance
 * holds the id of the host's key in this isolate's table, in a private field
 * tenant code cannot read or set. Tenants cannot construct one (the
 * constructor wants a token only this module has), and `instanceof` works
 * because every key is made here.
 */
import { IntrinsicUint8Array } from "./intrinsics.js";
import type { WireCryptoKey } from "./protocol.js";

const CONSTRUCT = Symbol("CryptoKey");

/** The host key id of `value`, or undefined if it is not a CryptoKey. */
export let keyIdOf: (value: unknown) => number | undefined;

/** The KeyAlgorithm object a tenant sees, built once per key. */
function keyAlgorithm(wire: Record<string, unknown>): Record<string, unknown> {
  const algorithm: Record<string, unknown> = {};
  for (const name of Object.keys(wire)) {
    const value = wire[name];
    algorithm[name] = value instanceof ArrayBuffer ? new IntrinsicUint8Array(value) : value;
  }
  return algorithm;
}

/** A key held by the host (see module comment). */
export class CryptoKey {
  readonly #id: number;
  readonly #type: string;
  readonly #extractable: boolean;
  readonly #algorithm: Record<string, unknown>;
  readonly #usages: string[];

  constructor(token?: unknown, wire?: WireCryptoKey) {
    if (token !== CONSTRUCT || wire === undefined) throw new TypeError("Illegal constructor");
    this.#id = wire.id;
    this.#type = wire.type;
    this.#extractable = wire.extractable;
    this.#algorithm = keyAlgorithm(wire.algorithm);
    this.#usages = [...wire.usages];
  }

  get type(): string {
    return this.#type;
  }

  get extractable(): boolean {
    return this.#extractable;
  }

  /** The same object on every read, as the spec's cached [[algorithm]]. */
  get algorithm(): Record<string, unknown> {
    return this.#algorithm;
  }

  /** The same array on every read, as the spec's cached [[usages]]. */
  get usages(): string[] {
    return this.#usages;
  }

  get [Symbol.toStringTag](): string {
    return "CryptoKey";
  }

  static {
    keyIdOf = (value) => ((typeof value === "object" && value !== null && #id in value) ? (value as CryptoKey).#id : undefined);
  }
}

/** A CryptoKey for a key the host described. */
export function createCryptoKey(wire: WireCryptoKey): CryptoKey {
  return new CryptoKey(CONSTRUCT, wire);
}
