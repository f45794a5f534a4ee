import { inspect } from "node:util";

const REDACTED = "[secret]";

/**
 * A secret's value, kept where logging, `JSON.stringify`, `util.inspect`,
 * `String()` and template literals cannot reach it: all of them give
 * `[secret]`. Only `reveal()` returns the value, so every place that hands a
 * secret on (to an isolate's `env`) is explicit and greppable.
 *
 * Note for wiring: IPC (`process.send`) serialises with JSON, so a Secret
 * crosses to a child process as `"[secret]"`; pass `reveal()`ed values on
 * purpose, or let the child load the config itself.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from (`env SHOP_KEY`, `file /etc/edgehost/key`): safe to show. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
    Object.freeze(this);
  }

  /** The value itself. Never log it. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
