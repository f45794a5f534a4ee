/**
 * The Event subclasses Workers code constructs or checks for: CustomEvent,
 * ErrorEvent, MessageEvent and CloseEvent, each with its init dictionary's
 * fields as read-only attributes, and PromiseRejectionEvent (not
 * constructible, as in workerd).
 */
import { Event, type EventInit } from "./event-target.js";

/** An event carrying any `detail`. */
export class CustomEvent extends Event {
  readonly #detail: unknown;

  constructor(type: string, init: EventInit & { detail?: unknown } = {}) {
    if (arguments.length === 0) throw new TypeError("CustomEvent: 1 argument required, but only 0 present");
    super(type, init);
    this.#detail = init?.detail ?? null;
  }

  get detail(): unknown {
    return this.#detail;
  }
}

/** An error report (`reportError`, uncaught exceptions). */
export class ErrorEvent extends Event {
  readonly #message: string;
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;
  readonly #error: unknown;

  constructor(type: string, init: EventInit & { message?: string; filename?: string; lineno?: number; colno?: number; error?: unknown } = {}) {
    if (arguments.length === 0) throw new TypeError("ErrorEvent: 1 argument required, but only 0 present");
    super(type, init);
    this.#message = init?.message === undefined ? "" : String(init.message);
    this.#filename = init?.filename === undefined ? "" : String(init.filename);
    this.#lineno = init?.lineno === undefined ? 0 : Number(init.lineno) >>> 0;
    this.#colno = init?.colno === undefined ? 0 : Number(init.colno) >>> 0;
    this.#error = init?.error;
  }

  get message(): string {
    return this.#message;
  }
  get filename(): string {
    return this.#filename;
  }
  get lineno(): number {
    return this.#lineno;
  }
  get colno(): number {
    return this.#colno;
  }
  get error(): unknown {
    return this.#error;
  }
}

/** A message (`data` and where it came from). */
export class MessageEvent extends Event {
  readonly #data: unknown;
  readonly #origin: string;
  readonly #lastEventId: string;
  readonly #source: unknown;
  readonly #ports: readonly unknown[];

  constructor(type: string, init: EventInit & { data?: unknown; origin?: string; lastEventId?: string; source?: unknown; ports?: unknown[] } = {}) {
    if (arguments.length === 0) throw new TypeError("MessageEvent: 1 argument required, but only 0 present");
    super(type, init);
    this.#data = init?.data ?? null;
    this.#origin = init?.origin === undefined ? "" : String(init.origin);
    this.#lastEventId = init?.lastEventId === undefined ? "" : String(init.lastEventId);
    this.#source = init?.source ?? null;
    this.#ports = Object.freeze(init?.ports === undefined ? [] : [...init.ports]);
  }

  get data(): unknown {
    return this.#data;
  }
  get origin(): string {
    return this.#origin;
  }
  get lastEventId(): string {
    return this.#lastEventId;
  }
  get source(): unknown {
    return this.#source;
  }
  get ports(): readonly unknown[] {
    return this.#ports;
  }
}

/** A closed connection's code and reason. */
export class CloseEvent extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: EventInit & { wasClean?: boolean; code?: number; reason?: string } = {}) {
    if (arguments.length === 0) throw new TypeError("CloseEvent: 1 argument required, but only 0 present");
    super(type, init);
    this.#wasClean = Boolean(init?.wasClean);
    this.#code = init?.code === undefined ? 0 : Number(init.code) & 0xffff;
    this.#reason = init?.reason === undefined ? "" : String(init.reason);
  }

  get wasClean(): boolean {
    return this.#wasClean;
  }
  get code(): number {
    return this.#code;
  }
  get reason(): string {
    return this.#reason;
  }
}

const REJECTION_KEY = Symbol("PromiseRejectionEvent");

/** A promise rejection (`unhandledrejection`, `rejectionhandled`); not constructible by tenant code, as in workerd. */
export class PromiseRejectionEvent extends Event {
  readonly #promise: Promise<unknown>;
  readonly #reason: unknown;

  constructor(key: symbol, type: string, promise: Promise<unknown>, reason: unknown) {
    if (key !== REJECTION_KEY) throw new TypeError("Illegal constructor");
    super(type, { cancelable: true });
    this.#promise = promise;
    this.#reason = reason;
  }

  get promise(): Promise<unknown> {
    return this.#promise;
  }
  get reason(): unknown {
    return this.#reason;
  }
}
