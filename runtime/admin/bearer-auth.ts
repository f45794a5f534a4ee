import { createHash, timingSafeEqual } from "node:crypto";

/** What a request's credentials come to. */
export type AuthVerdict = "ok" | "unauthorized" | "not_configured";

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** SHA-256 of `text`: a fixed-length stand-in for a token, so comparing two says nothing about their lengths. */
function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/**
 * The admin listener's one check: `Authorization: Bearer <token>` against
 * the configured token. Both sides are hashed first and the digests
 * compared with `timingSafeEqual`, so neither the time taken nor an early
 * length mismatch tells a caller how much of a guess was right or how long
 * the token is.
 *
 * Without a configured token (config allows that only for a loopback
 * listener) every request is refused (`not_configured`) rather than let
 * through: an admin API that is open when an environment variable is
 * missing would be a deploy endpoint for anyone on the machine.
 */
export class BearerAuth {
  readonly #expected: Buffer | undefined;

  /** @param token the configured token; undefined = none configured. */
  constructor(token: string | undefined) {
    this.#expected = token === undefined || token === "" ? undefined : digest(token);
  }

  get configured(): boolean {
    return this.#expected !== undefined;
  }

  /** Judge one request's `Authorization` header ("" when absent). */
  check(authorization: string): AuthVerdict {
    if (this.#expected === undefined) return "not_configured";
    const presented = BEARER.exec(authorization)?.[1];
    // A missing token is still hashed and compared, so it takes the time a wrong one does.
    const matches = timingSafeEqual(digest(presented ?? ""), this.#expected);
    return matches && presented !== undefined ? "ok" : "unauthorized";
  }
}
