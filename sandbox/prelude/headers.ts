/** Headers per the Fetch Standard: case-insensitive, combined on read, sorted on iteration. */
import type { FlatHeaders } from "./protocol.js";

/** Who may change a header list: "immutable" for incoming requests and fetched responses. */
export type HeadersGuard = "none" | "immutable";

/** What the Headers constructor and `headers` init members accept. */
export type HeadersInit = Headers | ReadonlyArray<ReadonlyArray<string>> | Record<string, string>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_IN_VALUE = /[\0\n\r]|[^\0-\xff]/;

function validName(name: unknown): string {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError(`Invalid header name: "${text}"`);
  return text.toLowerCase();
}

function normalisedValue(value: unknown): string {
  const text = String(value).replace(EDGE_WHITESPACE, "");
  if (FORBIDDEN_IN_VALUE.test(text)) throw new TypeError(`Invalid header value: "${text}"`);
  return text;
}

/** Accessors for the prelude's own modules; assigned in the class's static block. */
export let headersFromFlat: (flat: FlatHeaders, guard: HeadersGuard) => Headers;
export let flattenHeaders: (headers: Headers) => FlatHeaders;
export let setHeadersGuard: (headers: Headers, guard: HeadersGuard) => void;
export let headersGuard: (headers: Headers) => HeadersGuard;
/** Appends without validation or guard (content-type set by a body, trusted input). */
export let appendHeaderUnchecked: (headers: Headers, name: string, value: string) => void;

type Pair = [string, string];

/** A header list with the Fetch Standard's semantics. */
export class Headers {
  // Parallel arrays, names lower-cased: appends are cheap, lookups are linear
  // in a list that is almost always short.
  #names: string[] = [];
  #values: string[] = [];
  #guard: HeadersGuard = "none";
  #sorted: Pair[] | null = null;

  static {
    headersFromFlat = (flat, guard) => {
      const headers = new Headers();
      for (let i = 0; i + 1 < flat.length; i += 2) {
        headers.#names.push((flat[i] as string).toLowerCase());
        headers.#values.push(flat[i + 1] as string);
      }
      headers.#guard = guard;
      return headers;
    };
    flattenHeaders = (headers) => {
      const flat: string[] = [];
      for (let i = 0; i < headers.#names.length; i++) flat.push(headers.#names[i] as string, headers.#values[i] as string);
      return flat;
    };
    setHeadersGuard = (headers, guard) => {
      headers.#guard = guard;
    };
    headersGuard = (headers) => headers.#guard;
    appendHeaderUnchecked = (headers, name, value) => {
      headers.#names.push(name.toLowerCase());
      headers.#values.push(value);
      headers.#sorted = null;
    };
  }

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (typeof init !== "object" && typeof init !== "function") {
      throw new TypeError("Headers: init must be an object, an array of pairs or Headers");
    }
    if (init instanceof Headers) {
      this.#names = init.#names.slice();
      this.#values = init.#values.slice();
      return;
    }
    const iterator = (init as { [Symbol.iterator]?: unknown })[Symbol.iterator];
    if (iterator !== undefined && iterator !== null) {
      if (typeof iterator !== "function") throw new TypeError("Headers: init is not iterable");
      for (const pair of init as Iterable<unknown>) {
        if (typeof pair !== "object" || pair === null || typeof (pair as Iterable<unknown>)[Symbol.iterator] !== "function") {
          throw new TypeError("Headers: each header must be a [name, value] pair");
        }
        const items = Array.from(pair as Iterable<unknown>);
        if (items.length !== 2) throw new TypeError("Headers: each header must be a [name, value] pair");
        this.append(items[0] as string, items[1] as string);
      }
      return;
    }
    for (const key of Reflect.ownKeys(init)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      if (typeof key === "symbol") throw new TypeError("Headers: symbol keys are not header names");
      this.append(key, (init as Record<string, unknown>)[key] as string);
    }
  }

  #checkMutable(): void {
    if (this.#guard === "immutable") throw new TypeError("Can't modify immutable headers.");
  }

  append(name: string, value: string): void {
    const lower = validName(name);
    const normalised = normalisedValue(value);
    this.#checkMutable();
    this.#names.push(lower);
    this.#values.push(normalised);
    this.#sorted = null;
  }

  delete(name: string): void {
    const lower = validName(name);
    this.#checkMutable();
    if (!this.#names.includes(lower)) return;
    for (let i = this.#names.length - 1; i >= 0; i--) {
      if (this.#names[i] === lower) {
        this.#names.splice(i, 1);
        this.#values.splice(i, 1);
      }
    }
    this.#sorted = null;
  }

  get(name: string): string | null {
    const lower = validName(name);
    let combined: string | null = null;
    for (let i = 0; i < this.#names.length; i++) {
      if (this.#names[i] === lower) combined = combined === null ? (this.#values[i] as string) : `${combined}, ${this.#values[i] as string}`;
    }
    return combined;
  }

  getSetCookie(): string[] {
    const cookies: string[] = [];
    for (let i = 0; i < this.#names.length; i++) {
      if (this.#names[i] === "set-cookie") cookies.push(this.#values[i] as string);
    }
    return cookies;
  }

  has(name: string): boolean {
    return this.#names.includes(validName(name));
  }

  set(name: string, value: string): void {
    const lower = validName(name);
    const normalised = normalisedValue(value);
    this.#checkMutable();
    const first = this.#names.indexOf(lower);
    if (first === -1) {
      this.#names.push(lower);
      this.#values.push(normalised);
    } else {
      this.#values[first] = normalised;
      for (let i = this.#names.length - 1; i > first; i--) {
        if (this.#names[i] === lower) {
          this.#names.splice(i, 1);
          this.#values.splice(i, 1);
        }
      }
    }
    this.#sorted = null;
  }

  /** The Fetch Standard's "sort and combine": set-cookie stays one entry per value. */
  #sortedPairs(): Pair[] {
    if (this.#sorted !== null) return this.#sorted;
    const names = Array.from(new Set(this.#names)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const pairs: Pair[] = [];
    for (const name of names) {
      if (name === "set-cookie") {
        for (const cookie of this.getSetCookie()) pairs.push([name, cookie]);
      } else pairs.push([name, this.get(name) as string]);
    }
    this.#sorted = pairs;
    return pairs;
  }

  forEach(callback: (value: string, name: string, headers: Headers) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("Headers.forEach: callback must be a function");
    for (let i = 0; i < this.#sortedPairs().length; i++) {
      const [name, value] = this.#sortedPairs()[i] as Pair;
      callback.call(thisArg, value, name, this);
    }
  }

  entries(): HeadersIterator<Pair> {
    return new HeadersIterator(() => this.#sortedPairs(), (pair) => [pair[0], pair[1]]);
  }

  keys(): HeadersIterator<string> {
    return new HeadersIterator(() => this.#sortedPairs(), (pair) => pair[0]);
  }

  values(): HeadersIterator<string> {
    return new HeadersIterator(() => this.#sortedPairs(), (pair) => pair[1]);
  }

  [Symbol.iterator](): HeadersIterator<Pair> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}

/** A live iterator: each step reads the current sorted list, as WebIDL iterables do. */
class HeadersIterator<T> {
  readonly #pairs: () => Pair[];
  readonly #project: (pair: Pair) => T;
  #index = 0;

  constructor(pairs: () => Pair[], project: (pair: Pair) => T) {
    this.#pairs = pairs;
    this.#project = project;
  }

  next(): IteratorResult<T, undefined> {
    const pairs = this.#pairs();
    if (this.#index >= pairs.length) return { done: true, value: undefined };
    const pair = pairs[this.#index++] as Pair;
    return { done: false, value: this.#project(pair) };
  }

  [Symbol.iterator](): HeadersIterator<T> {
    return this;
  }

  get [Symbol.toStringTag](): string {
    return "Headers Iterator";
  }
}
