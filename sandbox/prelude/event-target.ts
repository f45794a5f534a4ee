/** Event and EventTarget: the DOM's dispatch without a tree (no capture or bubble path). */
import { DOMException } from "./dom-exception.js";
import { reportException } from "./report-exception.js";

/** Options of the Event constructor. */
export interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

/** Accessors for the prelude's own modules; assigned in the class's static block. */
export let setEventTrusted: (event: Event) => void;

interface EventInternals {
  beginDispatch(event: Event, target: EventTarget): void;
  endDispatch(event: Event): void;
  isStoppedImmediately(event: Event): boolean;
  setPassive(event: Event, passive: boolean): void;
}
let eventInternals: EventInternals;

/** A DOM Event. */
export class Event {
  static readonly NONE = 0;
  static readonly CAPTURING_PHASE = 1;
  static readonly AT_TARGET = 2;
  static readonly BUBBLING_PHASE = 3;

  readonly #type: string;
  readonly #bubbles: boolean;
  readonly #cancelable: boolean;
  readonly #composed: boolean;
  readonly #timeStamp = Date.now();
  #isTrusted = false;
  #target: EventTarget | null = null;
  #currentTarget: EventTarget | null = null;
  #dispatching = false;
  #canceled = false;
  #stopPropagation = false;
  #stopImmediate = false;
  #inPassiveListener = false;

  static {
    setEventTrusted = (event) => {
      event.#isTrusted = true;
    };
    eventInternals = {
      beginDispatch(event, target) {
        if (event.#dispatching) throw new DOMException("The event is already being dispatched.", "InvalidStateError");
        event.#dispatching = true;
        event.#target = target;
        event.#currentTarget = target;
        event.#stopPropagation = false;
      },
      endDispatch(event) {
        event.#dispatching = false;
        event.#currentTarget = null;
        event.#stopImmediate = false;
      },
      isStoppedImmediately: (event) => event.#stopImmediate,
      setPassive(event, passive) {
        event.#inPassiveListener = passive;
      },
    };
  }

  constructor(type: string, init: EventInit = {}) {
    if (arguments.length === 0) throw new TypeError("Event: 1 argument required, but only 0 present");
    this.#type = String(type);
    this.#bubbles = Boolean(init?.bubbles);
    this.#cancelable = Boolean(init?.cancelable);
    this.#composed = Boolean(init?.composed);
  }

  get type(): string {
    return this.#type;
  }
  get target(): EventTarget | null {
    return this.#target;
  }
  get srcElement(): EventTarget | null {
    return this.#target;
  }
  get currentTarget(): EventTarget | null {
    return this.#currentTarget;
  }
  get eventPhase(): number {
    return this.#dispatching ? Event.AT_TARGET : Event.NONE;
  }
  get bubbles(): boolean {
    return this.#bubbles;
  }
  get cancelable(): boolean {
    return this.#cancelable;
  }
  get composed(): boolean {
    return this.#composed;
  }
  get defaultPrevented(): boolean {
    return this.#canceled;
  }
  get returnValue(): boolean {
    return !this.#canceled;
  }
  get isTrusted(): boolean {
    return this.#isTrusted;
  }
  get timeStamp(): number {
    return this.#timeStamp;
  }
  get cancelBubble(): boolean {
    return this.#stopPropagation;
  }
  set cancelBubble(value: boolean) {
    if (value) this.#stopPropagation = true;
  }

  composedPath(): EventTarget[] {
    return this.#dispatching && this.#currentTarget !== null ? [this.#currentTarget] : [];
  }
  preventDefault(): void {
    if (this.#cancelable && !this.#inPassiveListener) this.#canceled = true;
  }
  stopPropagation(): void {
    this.#stopPropagation = true;
  }
  stopImmediatePropagation(): void {
    this.#stopPropagation = true;
    this.#stopImmediate = true;
  }

  get [Symbol.toStringTag](): string {
    return "Event";
  }
}


/** A listener: a function, or an object with `handleEvent`. */
export type EventListenerOrObject = ((event: Event) => unknown) | { handleEvent(event: Event): unknown };

/** Options of addEventListener. */
export interface AddEventListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  signal?: { aborted: boolean; addEventListener(type: string, listener: () => void): void };
}

interface Registration {
  listener: EventListenerOrObject;
  capture: boolean;
  once: boolean;
  passive: boolean;
  removed: boolean;
}

/** A DOM EventTarget. */
export class EventTarget {
  readonly #listeners = new Map<string, Registration[]>();

  addEventListener(type: string, listener: EventListenerOrObject | null, options: boolean | AddEventListenerOptions = {}): void {
    if (listener === null || listener === undefined) return;
    const flags = typeof options === "boolean" ? { capture: options } : (options ?? {});
    const signal = flags.signal;
    if (signal !== undefined && signal.aborted) return;
    const key = String(type);
    const capture = Boolean(flags.capture);
    let list = this.#listeners.get(key);
    if (list === undefined) {
      list = [];
      this.#listeners.set(key, list);
    }
    if (list.some((entry) => entry.listener === listener && entry.capture === capture)) return;
    const registration: Registration = { listener, capture, once: Boolean(flags.once), passive: Boolean(flags.passive), removed: false };
    list.push(registration);
    if (signal !== undefined) {
      signal.addEventListener("abort", () => this.removeEventListener(key, listener, { capture }));
    }
  }

  removeEventListener(type: string, listener: EventListenerOrObject | null, options: boolean | { capture?: boolean } = {}): void {
    const key = String(type);
    const list = this.#listeners.get(key);
    if (list === undefined) return;
    const capture = Boolean(typeof options === "boolean" ? options : options?.capture);
    const index = list.findIndex((entry) => entry.listener === listener && entry.capture === capture);
    if (index === -1) return;
    (list[index] as Registration).removed = true;
    list.splice(index, 1);
    if (list.length === 0) this.#listeners.delete(key);
  }

  dispatchEvent(event: Event): boolean {
    if (!(event instanceof Event)) throw new TypeError("EventTarget.dispatchEvent: argument must be an Event");
    eventInternals.beginDispatch(event, this);
    try {
      const list = this.#listeners.get(event.type);
      if (list !== undefined) {
        // Listeners added during dispatch do not run; removed ones do not either.
        for (const registration of list.slice()) {
          if (registration.removed) continue;
          if (registration.once) this.removeEventListener(event.type, registration.listener, { capture: registration.capture });
          eventInternals.setPassive(event, registration.passive);
          try {
            const listener = registration.listener;
            if (typeof listener === "function") listener.call(this, event);
            else if (typeof listener?.handleEvent === "function") listener.handleEvent(event);
          } catch (error) {
            reportException(error);
          }
          eventInternals.setPassive(event, false);
          if (eventInternals.isStoppedImmediately(event)) break;
        }
      }
    } finally {
      eventInternals.endDispatch(event);
    }
    return !event.defaultPrevented;
  }

  get [Symbol.toStringTag](): string {
    return "EventTarget";
  }
}
