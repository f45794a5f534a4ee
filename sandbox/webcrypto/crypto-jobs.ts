/**
 * One isolate's WebCrypto on the host: its key table and its operations in
 * flight. Host CPU spent here is not charged to the isolate's clock, so the
 * isolate may have at most `maxInFlight` operations out (the libuv pool has
 * four threads for the whole process) holding at most `maxBytesHeld` input
 * bytes; the prelude queues the rest.
 */
import { hmacSync } from "./hmac-sync.js";
import { CryptoKeyTable } from "./key-table.js";
import { runOperation, type CryptoOutcome } from "./operations.js";
import { failure } from "./params.js";

/** Bounds for one isolate's crypto work. */
export interface CryptoJobLimits {
  /** Operations on the host at once. */
  readonly maxInFlight: number;
  /** Input bytes held for them at once. */
  readonly maxBytesHeld: number;
  /** Keys held at once. */
  readonly maxKeys: number;
}

/** Total bytes of the ArrayBuffers among `args`, one level of objects deep (algorithm members). */
function inputBytes(args: unknown): number {
  if (!Array.isArray(args)) return 0;
  let total = 0;
  for (const arg of args as unknown[]) {
    if (arg instanceof ArrayBuffer) total += arg.byteLength;
    else if (typeof arg === "object" && arg !== null) {
      for (const member of Object.values(arg)) if (member instanceof ArrayBuffer) total += member.byteLength;
    }
  }
  return total;
}

/** Validated, bounded crypto operations for one isolate. */
export class CryptoJobs {
  readonly #limits: CryptoJobLimits;
  readonly #keys: CryptoKeyTable;
  #inFlight = 0;
  #bytesHeld = 0;

  constructor(limits: CryptoJobLimits) {
    this.#limits = limits;
    this.#keys = new CryptoKeyTable(limits.maxKeys);
  }

  /** Operations running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Keys held now. */
  get keyCount(): number {
    return this.#keys.size;
  }

  /** Run `operation` with `args` (untrusted); resolves with its outcome, never rejects. */
  start(operation: unknown, args: unknown): Promise<CryptoOutcome> {
    const size = inputBytes(args);
    if (this.#inFlight >= this.#limits.maxInFlight || this.#bytesHeld + size > this.#limits.maxBytesHeld) {
      return Promise.resolve(failure("QuotaExceededError", "too many crypto operations in progress"));
    }
    this.#inFlight++;
    this.#bytesHeld += size;
    return runOperation(operation, this.#keys, args).finally(() => {
      this.#inFlight--;
      this.#bytesHeld -= size;
    });
  }

  /**
   * HMAC sign or verify of small inputs, answered now (see hmac-sync.ts);
   * "async" when the operation must take {@link start}. Never throws.
   */
  signSync(operation: unknown, algorithmName: unknown, keyId: unknown, data: unknown, signature: unknown): ArrayBuffer | boolean | "async" {
    return hmacSync(this.#keys, operation, algorithmName, keyId, data, signature);
  }

  /** Forget every key (the isolate is disposed). */
  dispose(): void {
    this.#keys.clear();
  }
}
