/**
 * The Iterator global and the iterator helpers of ES2025 (Iterator.from,
 * Iterator.prototype.map, filter, take, drop, flatMap, reduce, toArray,
 * forEach, some, every, find) plus Iterator.concat (ES2026), as workerd's V8
 * has them and the V8 of Node 20 (11.3), which runs our isolates, does not.
 *
 * The algorithms follow the spec's observable steps: argument checks and
 * their order (a failed check closes the receiver, as ES2025 wants), `next`
 * read once per iterator (GetIteratorDirect), IteratorClose on abrupt
 * completions and on early exits. Helpers are the spec's generator-like
 * objects, written as a state machine around one step closure rather than
 * as generators: a generator's `next` lives on %GeneratorPrototype%, which
 * tenant code can patch. Everything the algorithms call is captured when
 * this module is evaluated (the first load of the lazy module, see
 * es-builtins-lazy.ts), so later tenant patches change only what the
 * tenant's own calls see.
 */

const { apply, defineProperty: reflectDefineProperty, getPrototypeOf, ownKeys, set: reflectSet } = Reflect;
const { defineProperty, getOwnPropertyDescriptor, getOwnPropertyDescriptors, setPrototypeOf } = Object;
const { trunc } = Math;
const { isNaN } = Number;
const IntrinsicTypeError = TypeError;
const IntrinsicRangeError = RangeError;
const ArrayPrototype = Array.prototype;
const SymbolIterator = Symbol.iterator;
const SymbolToStringTag = Symbol.toStringTag;
// Reached through prototypes rather than by calling [].values(), which tenant code may have replaced before this module loads.
const IteratorPrototype = getPrototypeOf(getPrototypeOf(function* () {}.prototype) as object) as object;

/** What a step returns at the end; never a value tenant code can produce. */
const DONE = Symbol("done");

/** The spec's Iterator Record; [[Done]] is not kept because nothing here reads it. */
interface IteratorRecord {
  readonly iterator: object;
  readonly next: unknown;
}

interface IteratorResultLike {
  readonly done?: unknown;
  readonly value?: unknown;
}

function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function getIteratorDirect(iterator: object): IteratorRecord {
  return { iterator, next: (iterator as { next?: unknown }).next };
}

function getMethod(value: unknown, key: PropertyKey): Function | undefined {
  const method = (value as Record<PropertyKey, unknown>)[key];
  if (method === undefined || method === null) return undefined;
  if (typeof method !== "function") throw new IntrinsicTypeError(`${String(key)} is not a function`);
  return method;
}

/** IteratorStep: the result object, or DONE. */
function iteratorStep(record: IteratorRecord): IteratorResultLike | typeof DONE {
  const result: unknown = apply(record.next as Function, record.iterator, []);
  if (!isObject(result)) throw new IntrinsicTypeError("Iterator result is not an object");
  return (result as IteratorResultLike).done ? DONE : result;
}

/** IteratorStepValue: the next value, or DONE. */
function stepValue(record: IteratorRecord): unknown {
  const result = iteratorStep(record);
  return result === DONE ? DONE : result.value;
}

/** IteratorClose with a normal (or return) completion: a failing `return` is the error. */
function closeIterator(iterator: object): void {
  const method = getMethod(iterator, "return");
  if (method === undefined) return;
  if (!isObject(apply(method, iterator, []))) throw new IntrinsicTypeError("Iterator result is not an object");
}

/** IteratorClose with a throw completion: `error` wins over anything `return` does. */
function closeAndThrow(iterator: object, error: unknown): never {
  try {
    const method = getMethod(iterator, "return");
    if (method !== undefined) apply(method, iterator, []);
  } catch {
    // The spec drops the close's own completion here.
  }
  throw error;
}

/** Calls `callback` (IfAbruptCloseIterator): a throw closes `iterator` first. */
function callOrClose(iterator: object, callback: unknown, args: unknown[]): unknown {
  try {
    return apply(callback as Function, undefined, args);
  } catch (error) {
    closeAndThrow(iterator, error);
  }
}

function requireObject(self: unknown, method: string): object {
  if (!isObject(self)) throw new IntrinsicTypeError(`Iterator.prototype.${method} called on a non-object`);
  return self;
}

/** The receiver check, the callback check (which closes the receiver) and GetIteratorDirect. */
function directWithCallback(self: unknown, callback: unknown, method: string): IteratorRecord {
  const iterator = requireObject(self, method);
  if (typeof callback !== "function") closeAndThrow(iterator, new IntrinsicTypeError(`Iterator.prototype.${method}: the argument is not a function`));
  return getIteratorDirect(iterator);
}

/** take and drop's limit: ToNumber, then a RangeError for NaN or a negative integer; any failure closes `iterator`. */
function limitOf(iterator: object, limit: unknown, method: string): number {
  let number: number;
  try {
    // Unary plus is ToNumber (a BigInt throws); Number() would convert one.
    number = +(limit as number);
  } catch (error) {
    closeAndThrow(iterator, error);
  }
  const integer = isNaN(number) ? -1 : trunc(number);
  if (integer < 0) closeAndThrow(iterator, new IntrinsicRangeError(`Iterator.prototype.${method}: ${String(number)} is not a valid limit`));
  return integer;
}

function getIteratorFlattenable(value: unknown, allowStrings: boolean): IteratorRecord {
  if (!isObject(value) && !(allowStrings && typeof value === "string")) throw new IntrinsicTypeError("The value is not an iterator or iterable object");
  const method = getMethod(value, SymbolIterator);
  const iterator: unknown = method === undefined ? value : apply(method, value, []);
  if (!isObject(iterator)) throw new IntrinsicTypeError("The iterator is not an object");
  return getIteratorDirect(iterator);
}

const SUSPENDED_START = 0;
const SUSPENDED_YIELD = 1;
const EXECUTING = 2;
const COMPLETED = 3;

/** An object of %IteratorHelperPrototype%: a generator's states around `step`, which yields by returning a value and ends by returning DONE. */
class IteratorHelper {
  #state = SUSPENDED_START;
  readonly #underlying: object | undefined;
  readonly #step: () => unknown;
  readonly #closeAtYield: (() => void) | undefined;

  /** `closeAtYield` is what return() does while suspended at a yield; by default it closes `underlying`. */
  constructor(underlying: object | undefined, step: () => unknown, closeAtYield?: () => void) {
    this.#underlying = underlying;
    this.#step = step;
    this.#closeAtYield = closeAtYield;
  }

  next(): IteratorResult<unknown> {
    const state = this.#state;
    if (state === EXECUTING) throw new IntrinsicTypeError("Iterator helper is already running");
    if (state === COMPLETED) return { value: undefined, done: true };
    this.#state = EXECUTING;
    let value: unknown = DONE;
    try {
      value = this.#step();
    } finally {
      this.#state = value === DONE ? COMPLETED : SUSPENDED_YIELD;
    }
    return value === DONE ? { value: undefined, done: true } : { value, done: false };
  }

  return(): IteratorResult<unknown> {
    const state = this.#state;
    if (state === EXECUTING) throw new IntrinsicTypeError("Iterator helper is already running");
    if (state === SUSPENDED_START) {
      // Completed first: a `return` that calls next() again finds the helper done.
      this.#state = COMPLETED;
      if (this.#underlying !== undefined) closeIterator(this.#underlying);
    } else if (state === SUSPENDED_YIELD) {
      // The return completion resumes the closure at its yield, which closes what it iterates.
      this.#state = EXECUTING;
      try {
        if (this.#closeAtYield !== undefined) this.#closeAtYield();
        else closeIterator(this.#underlying as object);
      } finally {
        this.#state = COMPLETED;
      }
    }
    return { value: undefined, done: true };
  }
}

/** An object of %WrapForValidIteratorPrototype%: what Iterator.from returns for an iterator that does not inherit from Iterator.prototype. */
class WrapForValidIterator {
  readonly #iterated: IteratorRecord;

  constructor(iterated: IteratorRecord) {
    this.#iterated = iterated;
  }

  next(): unknown {
    const { iterator, next } = this.#iterated;
    return apply(next as Function, iterator, []);
  }

  return(): unknown {
    const { iterator } = this.#iterated;
    const method = getMethod(iterator, "return");
    return method === undefined ? { value: undefined, done: true } : apply(method, iterator, []);
  }
}

/** The first value whose predicate result is `wanted`, after closing the iterator; DONE when there is none (some, every, find). */
function findValue(self: unknown, predicate: unknown, wanted: boolean, method: string): unknown {
  const iterated = directWithCallback(self, predicate, method);
  for (let counter = 0; ; counter++) {
    const value = stepValue(iterated);
    if (value === DONE) return DONE;
    const matched = !!callOrClose(iterated.iterator, predicate, [value, counter]);
    if (matched === wanted) {
      closeIterator(iterated.iterator);
      return value;
    }
  }
}

/** SetterThatIgnoresPrototypeProperties, with Iterator.prototype as the home object. */
function setIgnoringPrototype(self: unknown, key: PropertyKey, value: unknown): void {
  if (!isObject(self)) throw new IntrinsicTypeError("Cannot set a property on a non-object");
  if (self === IteratorPrototype) throw new IntrinsicTypeError(`Cannot assign to read only property '${String(key)}' of Iterator.prototype`);
  const defined =
    getOwnPropertyDescriptor(self, key) === undefined
      ? // A null-prototype descriptor: a tenant's Object.prototype.get must not turn it into an accessor.
        reflectDefineProperty(self, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true } as PropertyDescriptor)
      : reflectSet(self, key, value);
  if (!defined) throw new IntrinsicTypeError(`Cannot assign to property '${String(key)}'`);
}

/** Defines each member of `source` that `target` has no own property for, as built-ins have them: not enumerable, writable (data) and configurable. */
function defineMissing(target: object, source: object): void {
  const descriptors = getOwnPropertyDescriptors(source) as Record<PropertyKey, PropertyDescriptor>;
  for (const key of ownKeys(descriptors)) {
    if (getOwnPropertyDescriptor(target, key) !== undefined) continue;
    (descriptors[key] as PropertyDescriptor).enumerable = false;
    defineProperty(target, key, descriptors[key] as PropertyDescriptor);
  }
}

/**
 * The installer is a class member because class bodies are strict code:
 * es-builtins-module.ts carries this file into a lazy module evaluated as a
 * sloppy script, where the methods' `this` would be boxed (a primitive
 * receiver would pass the object check) and `Iterator` would get own
 * `arguments` and `caller` properties.
 */
class IteratorInstaller {
  static install(global: typeof globalThis): void {
    function Iterator(): void {
      if (new.target === undefined || new.target === Iterator) throw new IntrinsicTypeError("Abstract class Iterator not directly constructable");
    }
    defineProperty(Iterator, "name", { value: "Iterator" });
    defineProperty(Iterator, "prototype", { value: IteratorPrototype, writable: false });
    // Object literal methods and accessors: spec names and lengths, and no [[Construct]].
    defineMissing(Iterator, {
      from(value: unknown): object {
        const record = getIteratorFlattenable(value, true);
        // OrdinaryHasInstance(%Iterator%, iterator), walking [[GetPrototypeOf]] as the spec does (a proxy's trap runs).
        for (let proto = getPrototypeOf(record.iterator); proto !== null; proto = getPrototypeOf(proto)) {
          if (proto === IteratorPrototype) return record.iterator;
        }
        return new WrapForValidIterator(record);
      },
      concat(...items: unknown[]): object {
        const count = items.length;
        const sources = items as Array<{ method: Function; iterable: object }>;
        for (let index = 0; index < count; index++) {
          const item = items[index];
          if (!isObject(item)) throw new IntrinsicTypeError("Iterator.concat: an argument is not an object");
          const method = getMethod(item, SymbolIterator);
          if (method === undefined) throw new IntrinsicTypeError("Iterator.concat: an argument is not iterable");
          // Overwrites an own element of the rest array: no push, no indexed setter of Array.prototype.
          sources[index] = { method, iterable: item };
        }
        let index = 0;
        let current: IteratorRecord | undefined;
        return new IteratorHelper(
          undefined,
          () => {
            for (;;) {
              if (current === undefined) {
                if (index >= count) return DONE;
                const { method, iterable } = sources[index++] as { method: Function; iterable: object };
                const iterator: unknown = apply(method, iterable, []);
                if (!isObject(iterator)) throw new IntrinsicTypeError("Iterator.concat: an iterator is not an object");
                current = getIteratorDirect(iterator);
              }
              const value = stepValue(current);
              if (value !== DONE) return value;
              current = undefined;
            }
          },
          () => closeIterator((current as IteratorRecord).iterator),
        );
      },
    });

    defineMissing(IteratorPrototype, {
      get constructor() {
        return Iterator;
      },
      set constructor(value: unknown) {
        setIgnoringPrototype(this, "constructor", value);
      },
      get [SymbolToStringTag]() {
        return "Iterator";
      },
      set [SymbolToStringTag](value: unknown) {
        setIgnoringPrototype(this, SymbolToStringTag, value);
      },
      map(mapper: unknown): object {
        const iterated = directWithCallback(this, mapper, "map");
        let counter = 0;
        return new IteratorHelper(iterated.iterator, () => {
          const value = stepValue(iterated);
          return value === DONE ? DONE : callOrClose(iterated.iterator, mapper, [value, counter++]);
        });
      },
      filter(predicate: unknown): object {
        const iterated = directWithCallback(this, predicate, "filter");
        let counter = 0;
        return new IteratorHelper(iterated.iterator, () => {
          for (;;) {
            const value = stepValue(iterated);
            if (value === DONE || callOrClose(iterated.iterator, predicate, [value, counter++])) return value;
          }
        });
      },
      take(limit: unknown): object {
        const iterator = requireObject(this, "take");
        let remaining = limitOf(iterator, limit, "take");
        const iterated = getIteratorDirect(iterator);
        return new IteratorHelper(iterator, () => {
          if (remaining === 0) {
            closeIterator(iterator);
            return DONE;
          }
          if (remaining !== Infinity) remaining--;
          return stepValue(iterated);
        });
      },
      drop(limit: unknown): object {
        const iterator = requireObject(this, "drop");
        let remaining = limitOf(iterator, limit, "drop");
        const iterated = getIteratorDirect(iterator);
        return new IteratorHelper(iterator, () => {
          for (; remaining > 0; ) {
            if (remaining !== Infinity) remaining--;
            if (iteratorStep(iterated) === DONE) return DONE;
          }
          return stepValue(iterated);
        });
      },
      flatMap(mapper: unknown): object {
        const iterated = directWithCallback(this, mapper, "flatMap");
        const { iterator } = iterated;
        let counter = 0;
        let inner: IteratorRecord | undefined;
        return new IteratorHelper(
          iterator,
          () => {
            for (;;) {
              if (inner === undefined) {
                const value = stepValue(iterated);
                if (value === DONE) return DONE;
                const mapped = callOrClose(iterator, mapper, [value, counter++]);
                try {
                  inner = getIteratorFlattenable(mapped, false);
                } catch (error) {
                  closeAndThrow(iterator, error);
                }
              }
              let value: unknown;
              try {
                value = stepValue(inner);
              } catch (error) {
                closeAndThrow(iterator, error);
              }
              if (value !== DONE) return value;
              inner = undefined;
            }
          },
          () => {
            // The inner iterator first; if closing it fails, the outer one is closed and that failure wins.
            try {
              closeIterator((inner as IteratorRecord).iterator);
            } catch (error) {
              closeAndThrow(iterator, error);
            }
            closeIterator(iterator);
          },
        );
      },
      reduce(reducer: unknown, ...initialValue: unknown[]): unknown {
        const iterated = directWithCallback(this, reducer, "reduce");
        let accumulator: unknown;
        let counter = 0;
        if (initialValue.length === 0) {
          accumulator = stepValue(iterated);
          if (accumulator === DONE) throw new IntrinsicTypeError("Reduce of empty iterator with no initial value");
          counter = 1;
        } else accumulator = initialValue[0];
        for (;;) {
          const value = stepValue(iterated);
          if (value === DONE) return accumulator;
          accumulator = callOrClose(iterated.iterator, reducer, [accumulator, value, counter++]);
        }
      },
      toArray(): unknown[] {
        const iterated = getIteratorDirect(requireObject(this, "toArray"));
        // CreateArrayFromList defines elements: while the list has no prototype, an indexed setter a tenant put on Array.prototype is not called.
        const items = setPrototypeOf([], null) as unknown[];
        for (let value = stepValue(iterated); value !== DONE; value = stepValue(iterated)) items[items.length] = value;
        return setPrototypeOf(items, ArrayPrototype) as unknown[];
      },
      forEach(procedure: unknown): undefined {
        const iterated = directWithCallback(this, procedure, "forEach");
        for (let counter = 0; ; counter++) {
          const value = stepValue(iterated);
          if (value === DONE) return undefined;
          callOrClose(iterated.iterator, procedure, [value, counter]);
        }
      },
      some(predicate: unknown): boolean {
        return findValue(this, predicate, true, "some") !== DONE;
      },
      every(predicate: unknown): boolean {
        return findValue(this, predicate, false, "every") === DONE;
      },
      find(predicate: unknown): unknown {
        const value = findValue(this, predicate, true, "find");
        return value === DONE ? undefined : value;
      },
    });

    for (const proto of [IteratorHelper.prototype, WrapForValidIterator.prototype]) {
      // The prototypes must not lead tenant code to the private constructors.
      Reflect.deleteProperty(proto, "constructor");
      setPrototypeOf(proto, IteratorPrototype);
    }
    defineProperty(IteratorHelper.prototype, SymbolToStringTag, { value: "Iterator Helper", configurable: true });
    if (getOwnPropertyDescriptor(global, "Iterator") === undefined) {
      defineProperty(global, "Iterator", { value: Iterator, writable: true, enumerable: false, configurable: true });
    }
  }
}

/**
 * Installs Iterator, its statics and the helpers on `global`, each only
 * where it is missing: where V8 has them all (a newer V8) nothing changes,
 * and a property tenant code set before the lazy module loaded stays.
 */
export function installIteratorHelpers(global: typeof globalThis): void {
  IteratorInstaller.install(global);
}
