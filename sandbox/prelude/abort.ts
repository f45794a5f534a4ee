/** AbortController and AbortSignal (with abort, timeout and any), per the DOM Standard. */
import { DOMException } from "./dom-exception.js";
import { Event, EventTarget, setEventTrusted } from "./event-target.js";
import { reportException } from "./report-exception.js";
import { setTimeout } from "./timers.js";

/** Accessors for the prelude's own modules; assigned in the class's static block. */
export let createAbortSignal: () => AbortSignal;
export let signalAbort: (signal: AbortSignal, reason: unknown) => void;
/** Runs `algorithm` once when `signal` aborts (the spec's "add an abort algorithm"); internal, never seen by listeners. */
export let addAbortAlgorithm: (signal: AbortSignal, algorithm: () => void) => void;

const CONSTRUCT_KEY = Symbol("AbortSignal");

function defaultReason(): DOMException {
  return new DOMException("This operation was aborted", "AbortError");
}

/** A signal that says whether, and why, an operation was aborted. */
export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason: unknown = undefined;
  #onabort: ((event: Event) => unknown) | null = null;
  #algorithms: Array<() => void> = [];
  // Dependent signals (AbortSignal.any) are held weakly so a long-lived source
  // signal does not keep every derived signal alive.
  #dependents: Array<WeakRef<AbortSignal>> = [];
  // For a signal made by AbortSignal.any: the non-dependent signals it follows
  // (the spec flattens chains, so a dependent of a dependent still aborts).
  #sources: AbortSignal[] | null = null;

  static {
    createAbortSignal = () => new AbortSignal(CONSTRUCT_KEY);
    signalAbort = (signal, reason) => signal.#abort(reason);
    addAbortAlgorithm = (signal, algorithm) => {
      if (!signal.#aborted) signal.#algorithms.push(algorithm);
    };
  }

  /** Not constructible by tenants; use AbortController or the static factories. */
  constructor(key?: unknown) {
    if (key !== CONSTRUCT_KEY) throw new TypeError("Illegal constructor");
    super();
  }

  static abort(reason?: unknown): AbortSignal {
    const signal = new AbortSignal(CONSTRUCT_KEY);
    signal.#aborted = true;
    signal.#reason = reason === undefined ? defaultReason() : reason;
    return signal;
  }

  static timeout(milliseconds: number): AbortSignal {
    const delay = Number(milliseconds);
    if (!Number.isFinite(delay) || delay < 0) throw new TypeError("AbortSignal.timeout: milliseconds must be a non-negative number");
    const signal = new AbortSignal(CONSTRUCT_KEY);
    setTimeout(() => signal.#abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")), delay);
    return signal;
  }

  static any(signals: Iterable<AbortSignal>): AbortSignal {
    const list = Array.from(signals);
    for (const source of list) {
      if (!(source instanceof AbortSignal)) throw new TypeError("AbortSignal.any: every item must be an AbortSignal");
    }
    const result = new AbortSignal(CONSTRUCT_KEY);
    for (const source of list) {
      if (source.#aborted) {
        result.#aborted = true;
        result.#reason = source.#reason;
        return result;
      }
    }
    const sources = new Set<AbortSignal>();
    for (const source of list) {
      if (source.#sources === null) sources.add(source);
      else for (const inner of source.#sources) sources.add(inner);
    }
    result.#sources = Array.from(sources);
    for (const source of sources) source.#dependents.push(new WeakRef(result));
    return result;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  get onabort(): ((event: Event) => unknown) | null {
    return this.#onabort;
  }

  set onabort(handler: ((event: Event) => unknown) | null) {
    if (this.#onabort !== null) this.removeEventListener("abort", this.#onabort);
    this.#onabort = typeof handler === "function" ? handler : null;
    if (this.#onabort !== null) this.addEventListener("abort", this.#onabort);
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }

  #abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason === undefined ? defaultReason() : reason;
    const dependents: AbortSignal[] = [];
    for (const ref of this.#dependents) {
      const dependent = ref.deref();
      if (dependent !== undefined && !dependent.#aborted) {
        dependent.#aborted = true;
        dependent.#reason = this.#reason;
        dependents.push(dependent);
      }
    }
    this.#dependents = [];
    this.#runAbortSteps();
    for (const dependent of dependents) dependent.#runAbortSteps();
  }

  #runAbortSteps(): void {
    const algorithms = this.#algorithms;
    this.#algorithms = [];
    for (const algorithm of algorithms) {
      try {
        algorithm();
      } catch (error) {
        reportException(error);
      }
    }
    const event = new Event("abort");
    setEventTrusted(event);
    this.dispatchEvent(event);
  }

  override get [Symbol.toStringTag](): string {
    return "AbortSignal";
  }
}


/** Owns an AbortSignal and aborts it on request. */
export class AbortController {
  readonly #signal = createAbortSignal();

  get signal(): AbortSignal {
    return this.#signal;
  }

  abort(reason?: unknown): void {
    signalAbort(this.#signal, reason);
  }

  get [Symbol.toStringTag](): string {
    return "AbortController";
  }
}
