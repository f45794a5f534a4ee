/**
 * ECMAScript built-ins of ES2024-2026 that workerd's V8 has and the V8 of
 * Node 20 (11.3), which runs our isolates, lacks: Object.groupBy and
 * Map.groupBy, Promise.withResolvers and Promise.try, Array.fromAsync, the
 * Set methods, explicit resource management (Symbol.dispose and
 * Symbol.asyncDispose, DisposableStack, AsyncDisposableStack,
 * SuppressedError) and RegExp.escape. Real Workers code uses them (a
 * bundle built for workerd does not lower them), so without them it fails
 * here with a TypeError where it works on Workers.
 *
 * Each follows its spec's steps where they are observable (argument checks
 * and their order, which methods of an argument are read and when, which
 * iterators are closed), and is installed only where V8 has none, so a
 * newer V8 keeps its own. The algorithms use intrinsics captured at load:
 * tenant code patching Set.prototype.add or Array.prototype.push changes
 * what its own calls see, as with native built-ins, and nothing else.
 * Syntax (`using`, RegExp modifiers) is not here: esbuild lowers `using`
 * for our es2022 target, and a regular expression's syntax is V8's.
 */

const { apply, defineProperty, getPrototypeOf, ownKeys } = Reflect;
const IntrinsicSet = Set;
const IntrinsicMap = Map;
const IntrinsicPromise = Promise;
const IntrinsicArray = Array;
const IntrinsicError = Error;
const IntrinsicTypeError = TypeError;
const IntrinsicRangeError = RangeError;
const IntrinsicReferenceError = ReferenceError;
const setPrototype = Set.prototype;
const setHas = setPrototype.has;
const setAdd = setPrototype.add;
const setDelete = setPrototype.delete;
const setValues = setPrototype.values;
const setSizeGetter = Object.getOwnPropertyDescriptor(setPrototype, "size")?.get as (this: Set<unknown>) => number;
const setIteratorNext = (getPrototypeOf(new Set().values()) as Iterator<unknown>).next;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const arrayPush = Array.prototype.push;
const stringCodePointAt = String.prototype.codePointAt;
const numberToString = Number.prototype.toString;
const stringPadStart = String.prototype.padStart;

/** Defines `value` as a method-style data property (writable, not enumerable, configurable). */
function defineMethod(target: object, key: PropertyKey, value: unknown): void {
  defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

/** Defines the functions of `methods` on `target`, each with its spec name and length, unless `target` has the key already. */
function installMethods(target: object, methods: Record<string, Function>, lengths: Record<string, number>): void {
  for (const name of ownKeys(methods) as string[]) {
    if (name in target) continue;
    const method = methods[name] as Function;
    defineProperty(method, "name", { value: name, configurable: true });
    defineProperty(method, "length", { value: lengths[name] ?? 0, configurable: true });
    defineMethod(target, name, method);
  }
}

function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

const constructProbe: ProxyHandler<Function> = { construct: () => constructProbe };

function isConstructor(value: unknown): value is new (...args: unknown[]) => unknown {
  if (typeof value !== "function") return false;
  try {
    // IsConstructor without an observable step: `new` on a proxy fails before its trap unless the target has [[Construct]].
    new (new Proxy(value, constructProbe) as new () => unknown)();
    return true;
  } catch {
    return false;
  }
}

/** A value as V8 names it in "... is not a function" (its messages are what workerd's apps see). */
function renderForMessage(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "symbol") return value.toString();
  if (typeof value !== "object" || value === null) return String(value);
  const constructor = (getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor;
  return `#<${typeof constructor?.name === "string" ? constructor.name : "Object"}>`;
}

/** Throws V8's TypeError for a value that should be callable; `what` replaces the value where V8 names the property instead. */
function requireCallable(value: unknown, what?: string): asserts value is Function {
  if (typeof value !== "function") throw new IntrinsicTypeError(`${what ?? renderForMessage(value)} is not a function`);
}

/** ToIntegerOrInfinity. */
function toIntegerOrInfinity(value: unknown): number {
  const number = Number(value);
  if (number !== number || number === 0) return 0;
  if (!Number.isFinite(number)) return number;
  return Math.trunc(number);
}

// --- Object.groupBy, Map.groupBy -------------------------------------------

/** GroupBy: the values of `items` in insertion-ordered groups; keys coerced by `toKey`. */
function groupBy(items: unknown, callback: unknown, toKey: (key: unknown) => unknown): Map<unknown, unknown[]> {
  if (items === undefined || items === null) throw new IntrinsicTypeError("groupBy called on null or undefined");
  requireCallable(callback);
  const groups = new IntrinsicMap<unknown, unknown[]>();
  let index = 0;
  // for-of is GetIterator and IteratorStepValue, and closes the iterator when the body throws, as the spec's IfAbruptCloseIterator.
  for (const value of items as Iterable<unknown>) {
    const key = toKey(apply(callback, undefined, [value, index]));
    index += 1;
    const group = apply(mapGet, groups, [key]) as unknown[] | undefined;
    if (group === undefined) apply(mapSet, groups, [key, [value]]);
    else apply(arrayPush, group, [value]);
  }
  return groups;
}

/** ToPropertyKey, exactly: a computed member assignment applies it; read the key back from a throwaway object. */
function toPropertyKey(value: unknown): PropertyKey {
  if (typeof value === "string" || typeof value === "symbol") return value;
  const probe: Record<PropertyKey, true> = {};
  probe[value as string] = true;
  return ownKeys(probe)[0] as PropertyKey;
}

const objectStatics = {
  groupBy(items: unknown, callback: unknown): object {
    const groups = groupBy(items, callback, toPropertyKey);
    const result = Object.create(null) as Record<PropertyKey, unknown>;
    for (const [key, group] of groups) defineProperty(result, key as PropertyKey, { value: group, writable: true, enumerable: true, configurable: true });
    return result;
  },
};

const mapStatics = {
  groupBy(items: unknown, callback: unknown): Map<unknown, unknown[]> {
    // Keys compare by SameValueZero; -0 becomes +0, as Map keys do.
    return groupBy(items, callback, (key) => (key === 0 ? 0 : key));
  },
};

// --- Promise.withResolvers, Promise.try -------------------------------------

interface Capability {
  promise: unknown;
  resolve: (value: unknown) => unknown;
  reject: (reason: unknown) => unknown;
}

/** NewPromiseCapability(C). */
function newPromiseCapability(C: unknown): Capability {
  if (!isConstructor(C)) throw new IntrinsicTypeError("Promise resolver target is not a constructor");
  let resolve: unknown;
  let reject: unknown;
  const promise = new C((onResolve: unknown, onReject: unknown) => {
    if (resolve !== undefined || reject !== undefined) throw new IntrinsicTypeError("Promise executor has already been invoked with non-undefined arguments");
    resolve = onResolve;
    reject = onReject;
  });
  requireCallable(resolve);
  requireCallable(reject);
  return { promise, resolve: resolve as Capability["resolve"], reject: reject as Capability["reject"] };
}

const promiseStatics = {
  withResolvers(this: unknown): { promise: unknown; resolve: unknown; reject: unknown } {
    const { promise, resolve, reject } = newPromiseCapability(this);
    return { promise, resolve, reject };
  },
  try(this: unknown, callback: unknown, ...args: unknown[]): unknown {
    if (!isObject(this)) throw new IntrinsicTypeError("Promise.try called on a non-object");
    const capability = newPromiseCapability(this);
    let result: unknown;
    try {
      result = apply(callback as Function, undefined, args);
    } catch (error) {
      apply(capability.reject, undefined, [error]);
      return capability.promise;
    }
    apply(capability.resolve, undefined, [result]);
    return capability.promise;
  },
};

// --- Array.fromAsync ---------------------------------------------------------

/** GetMethod: undefined for undefined or null, else the value, which must be callable. */
function getMethod(target: unknown, key: symbol): Function | undefined {
  const method = (Object(target) as Record<symbol, unknown>)[key];
  if (method === undefined || method === null) return undefined;
  requireCallable(method);
  return method;
}

function createDataProperty(target: object, index: number, value: unknown): void {
  if (!defineProperty(target, index, { value, writable: true, enumerable: true, configurable: true })) {
    throw new IntrinsicTypeError(`Cannot add property ${index}, object is not extensible`);
  }
}

/** Array.fromAsync's body: the spec runs it as an async closure, so every failure is a rejection. */
async function fromAsyncSteps(C: unknown, items: unknown, mapfn: unknown, thisArg: unknown): Promise<unknown> {
  const mapping = mapfn !== undefined;
  if (mapping) requireCallable(mapfn);
  if (items === undefined || items === null) throw new IntrinsicTypeError("Array.fromAsync requires an array-like or iterable object");
  const asyncMethod = getMethod(items, Symbol.asyncIterator);
  const syncMethod = asyncMethod === undefined ? getMethod(items, Symbol.iterator) : undefined;
  if (asyncMethod !== undefined || syncMethod !== undefined) {
    const result = (isConstructor(C) ? new C() : []) as object;
    // for await over a wrapper calls the method found above once; a sync iterator goes through CreateAsyncFromSyncIterator, which awaits each value, and a throwing body closes the iterator.
    const iterable =
      asyncMethod !== undefined ? { [Symbol.asyncIterator]: () => apply(asyncMethod, items, []) as AsyncIterator<unknown> } : { [Symbol.iterator]: () => apply(syncMethod as Function, items, []) as Iterator<unknown> };
    let index = 0;
    for await (const value of iterable as AsyncIterable<unknown>) {
      if (index >= Number.MAX_SAFE_INTEGER) throw new IntrinsicTypeError("Array.fromAsync: too many elements");
      const mapped = mapping ? await apply(mapfn as Function, thisArg, [value, index]) : value;
      createDataProperty(result, index, mapped);
      index += 1;
    }
    (result as { length: number }).length = index;
    return result;
  }
  const arrayLike = Object(items) as ArrayLike<unknown>;
  const length = Math.min(Math.max(toIntegerOrInfinity(arrayLike.length), 0), Number.MAX_SAFE_INTEGER);
  const result = (isConstructor(C) ? new C(length) : new IntrinsicArray(length)) as object;
  for (let index = 0; index < length; index += 1) {
    const value = await arrayLike[index];
    createDataProperty(result, index, mapping ? await apply(mapfn as Function, thisArg, [value, index]) : value);
  }
  (result as { length: number }).length = length;
  return result;
}

const arrayStatics = {
  fromAsync(this: unknown, items: unknown, mapfn: unknown = undefined, thisArg: unknown = undefined): Promise<unknown> {
    return fromAsyncSteps(this, items, mapfn, thisArg);
  },
};

// --- Set methods ---------------------------------------------------------------

interface SetRecord {
  readonly set: object;
  readonly size: number;
  readonly has: Function;
  readonly keys: Function;
}

/** RequireInternalSlot(O, [[SetData]]) and its size: the intrinsic size getter throws for anything but a Set. */
function thisSetSize(value: unknown): number {
  return apply(setSizeGetter, value, []) as number;
}

/** GetSetRecord. */
function getSetRecord(other: unknown): SetRecord {
  if (!isObject(other)) throw new IntrinsicTypeError("The argument must be an object");
  const rawSize = (other as { size: unknown }).size;
  const numSize = Number(rawSize);
  if (numSize !== numSize) throw new IntrinsicTypeError("The .size property is NaN");
  const size = toIntegerOrInfinity(numSize);
  if (size < 0) throw new IntrinsicRangeError(`'${String(rawSize)}' is an invalid size`);
  const has = (other as { has: unknown }).has;
  requireCallable(has, 'string "has"');
  const keys = (other as { keys: unknown }).keys;
  requireCallable(keys, 'string "keys"');
  return { set: other, size, has, keys };
}

/** The keys iterator of a set-like and its `next`, read once (GetIteratorFromMethod). */
function keysIterator(record: SetRecord): { iterator: object; next: Function } {
  const iterator = apply(record.keys, record.set, []) as unknown;
  if (!isObject(iterator)) throw new IntrinsicTypeError("The .keys() result is not an object");
  const next = (iterator as { next: unknown }).next;
  requireCallable(next);
  return { iterator, next };
}

/** Calls `visit` with each value of the set-like's keys (-0 as +0); `visit` returning true stops and closes the iterator. */
function forEachKey(record: SetRecord, visit: (value: unknown) => boolean | void): void {
  drainKeys(keysIterator(record), visit);
}

function drainKeys({ iterator, next }: { iterator: object; next: Function }, visit: (value: unknown) => boolean | void): void {
  for (;;) {
    const step = apply(next, iterator, []) as unknown;
    if (!isObject(step)) throw new IntrinsicTypeError("Iterator result is not an object");
    if ((step as IteratorResult<unknown>).done) return;
    const raw = (step as IteratorResult<unknown>).value;
    if (visit(raw === 0 ? 0 : raw) === true) {
      const close = (iterator as { return?: unknown }).return;
      if (close !== undefined && close !== null) {
        const closed = apply(close as Function, iterator, []) as unknown;
        if (!isObject(closed)) throw new IntrinsicTypeError("Iterator result is not an object");
      }
      return;
    }
  }
}

/** Calls `visit` with each element of the Set `set`, live as the spec's index walk (elements added meanwhile are visited). */
function forEachElement(set: object, visit: (value: unknown) => boolean | void): void {
  const iterator = apply(setValues, set, []) as Iterator<unknown>;
  for (let step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>; !step.done; step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>) {
    if (visit(step.value) === true) return;
  }
}

function copyOf(set: object): Set<unknown> {
  const copy = new IntrinsicSet<unknown>();
  forEachElement(set, (value) => void apply(setAdd, copy, [value]));
  return copy;
}

function inSet(set: object, value: unknown): boolean {
  return apply(setHas, set, [value]) as boolean;
}

function otherHas(record: SetRecord, value: unknown): boolean {
  return Boolean(apply(record.has, record.set, [value]));
}

const setMethods = {
  union(this: Set<unknown>, other: unknown): Set<unknown> {
    thisSetSize(this);
    const keys = keysIterator(getSetRecord(other));
    // The spec copies this set after opening the keys iterator (keys() may change it).
    const result = copyOf(this);
    drainKeys(keys, (value) => void apply(setAdd, result, [value]));
    return result;
  },
  intersection(this: Set<unknown>, other: unknown): Set<unknown> {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    const result = new IntrinsicSet<unknown>();
    if (size <= record.size) {
      forEachElement(this, (value) => {
        if (otherHas(record, value)) apply(setAdd, result, [value]);
      });
    } else {
      forEachKey(record, (value) => {
        if (inSet(this, value)) apply(setAdd, result, [value]);
      });
    }
    return result;
  },
  difference(this: Set<unknown>, other: unknown): Set<unknown> {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    const result = copyOf(this);
    if (size <= record.size) {
      // Over the copy, as the spec walks resultSetData.
      forEachElement(result, (value) => {
        if (otherHas(record, value)) apply(setDelete, result, [value]);
      });
    } else {
      forEachKey(record, (value) => void apply(setDelete, result, [value]));
    }
    return result;
  },
  symmetricDifference(this: Set<unknown>, other: unknown): Set<unknown> {
    thisSetSize(this);
    const keys = keysIterator(getSetRecord(other));
    const result = copyOf(this);
    drainKeys(keys, (value) => {
      const alreadyInResult = inSet(result, value);
      if (inSet(this, value)) {
        if (alreadyInResult) apply(setDelete, result, [value]);
      } else if (!alreadyInResult) apply(setAdd, result, [value]);
    });
    return result;
  },
  isSubsetOf(this: Set<unknown>, other: unknown): boolean {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    if (size > record.size) return false;
    let subset = true;
    forEachElement(this, (value) => {
      if (!otherHas(record, value)) subset = false;
      return !subset;
    });
    return subset;
  },
  isSupersetOf(this: Set<unknown>, other: unknown): boolean {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    if (size < record.size) return false;
    let superset = true;
    forEachKey(record, (value) => {
      if (!inSet(this, value)) superset = false;
      return !superset;
    });
    return superset;
  },
  isDisjointFrom(this: Set<unknown>, other: unknown): boolean {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    let disjoint = true;
    const visit = (found: boolean): boolean => {
      if (found) disjoint = false;
      return !disjoint;
    };
    if (size <= record.size) forEachElement(this, (value) => visit(otherHas(record, value)));
    else forEachKey(record, (value) => visit(inSet(this, value)));
    return disjoint;
  },
};

// --- Explicit resource management -------------------------------------------

interface SuppressedErrorLike extends Error {
  error: unknown;
  suppressed: unknown;
}

function defineHidden(target: object, key: string, value: unknown): void {
  defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

/** SuppressedError(error, suppressed, message): callable with or without new, as the NativeError constructors. */
function SuppressedError(this: unknown, error: unknown, suppressed: unknown, message?: unknown): SuppressedErrorLike {
  const newTarget = (new.target as Function | undefined) ?? SuppressedError;
  const result = Reflect.construct(IntrinsicError, [], newTarget) as SuppressedErrorLike;
  if (message !== undefined) defineHidden(result, "message", String(message));
  defineHidden(result, "error", error);
  defineHidden(result, "suppressed", suppressed);
  return result;
}

function suppressedAtDisposal(error: unknown, suppressed: unknown): SuppressedErrorLike {
  // V8 and workerd's message for the error DisposeResources builds.
  return new (SuppressedError as unknown as new (e: unknown, s: unknown, m: string) => SuppressedErrorLike)(error, suppressed, "An error was suppressed during disposal");
}

/** One resource of a stack: what dispose calls, with the value bound. */
type Disposer = () => unknown;

/** Shared state and steps of DisposableStack and AsyncDisposableStack. */
class DisposerList {
  disposed = false;
  readonly disposers: Disposer[] = [];

  check(stackName: string, method: string): void {
    if (this.disposed) throw new IntrinsicReferenceError(`Cannot call ${stackName}.prototype.${method} on an already-disposed ${stackName}`);
  }

  add(disposer: Disposer): void {
    apply(arrayPush, this.disposers, [disposer]);
  }

  /** Takes the disposers in the order they run (last added first) and marks the list disposed. */
  drain(): Disposer[] {
    this.disposed = true;
    const order: Disposer[] = [];
    for (let index = this.disposers.length - 1; index >= 0; index -= 1) apply(arrayPush, order, [this.disposers[index]]);
    this.disposers.length = 0;
    return order;
  }
}

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol("Symbol.dispose");
const asyncDisposeSymbol: symbol = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol("Symbol.asyncDispose");

function listOf(self: unknown, lists: WeakMap<object, DisposerList>, stackName: string, method: string): DisposerList {
  const list = isObject(self) ? lists.get(self) : undefined;
  if (list === undefined) throw new IntrinsicTypeError(`Method ${stackName}.prototype.${method} called on incompatible receiver`);
  return list;
}

const syncLists = new WeakMap<object, DisposerList>();
const asyncLists = new WeakMap<object, DisposerList>();

class DisposableStack {
  constructor() {
    syncLists.set(this, new DisposerList());
  }

  get disposed(): boolean {
    return listOf(this, syncLists, "DisposableStack", "disposed").disposed;
  }

  dispose(): undefined {
    const list = listOf(this, syncLists, "DisposableStack", "dispose");
    if (list.disposed) return undefined;
    let failed = false;
    let failure: unknown;
    for (const disposer of list.drain()) {
      try {
        disposer();
      } catch (error) {
        failure = failed ? suppressedAtDisposal(error, failure) : error;
        failed = true;
      }
    }
    if (failed) throw failure;
    return undefined;
  }

  use(value: unknown): unknown {
    const list = listOf(this, syncLists, "DisposableStack", "use");
    list.check("DisposableStack", "use");
    if (value === undefined || value === null) return value;
    if (!isObject(value)) throw new IntrinsicTypeError("DisposableStack.prototype.use: the value is not an object");
    const method = (value as Record<symbol, unknown>)[disposeSymbol];
    requireCallable(method, "Symbol(Symbol.dispose)");
    list.add(() => apply(method, value, []));
    return value;
  }

  adopt(value: unknown, onDispose: unknown): unknown {
    const list = listOf(this, syncLists, "DisposableStack", "adopt");
    list.check("DisposableStack", "adopt");
    requireCallable(onDispose);
    list.add(() => apply(onDispose, undefined, [value]));
    return value;
  }

  defer(onDispose: unknown): undefined {
    const list = listOf(this, syncLists, "DisposableStack", "defer");
    list.check("DisposableStack", "defer");
    requireCallable(onDispose);
    list.add(() => apply(onDispose, undefined, []));
    return undefined;
  }

  move(): DisposableStack {
    const list = listOf(this, syncLists, "DisposableStack", "move");
    list.check("DisposableStack", "move");
    // The new stack is a plain DisposableStack, whatever subclass this is.
    const moved = Reflect.construct(DisposableStack, [], DisposableStack) as DisposableStack;
    const target = syncLists.get(moved) as DisposerList;
    for (const disposer of list.disposers) target.add(disposer);
    list.disposers.length = 0;
    list.disposed = true;
    return moved;
  }
}

class AsyncDisposableStack {
  constructor() {
    asyncLists.set(this, new DisposerList());
  }

  get disposed(): boolean {
    return listOf(this, asyncLists, "AsyncDisposableStack", "disposed").disposed;
  }

  disposeAsync(): Promise<undefined> {
    let list: DisposerList;
    try {
      list = listOf(this, asyncLists, "AsyncDisposableStack", "disposeAsync");
    } catch (error) {
      return IntrinsicPromise.reject(error) as Promise<undefined>;
    }
    if (list.disposed) return IntrinsicPromise.resolve(undefined);
    const order = list.drain();
    return (async () => {
      let failed = false;
      let failure: unknown;
      for (const disposer of order) {
        try {
          await disposer();
        } catch (error) {
          failure = failed ? suppressedAtDisposal(error, failure) : error;
          failed = true;
        }
      }
      if (failed) throw failure;
      return undefined;
    })();
  }

  use(value: unknown): unknown {
    const list = listOf(this, asyncLists, "AsyncDisposableStack", "use");
    list.check("AsyncDisposableStack", "use");
    if (value === undefined || value === null) {
      // `await using x = null` still awaits once at disposal.
      list.add(() => undefined);
      return value;
    }
    if (!isObject(value)) throw new IntrinsicTypeError("AsyncDisposableStack.prototype.use: the value is not an object");
    const asyncMethod = (value as Record<symbol, unknown>)[asyncDisposeSymbol];
    if (asyncMethod !== undefined && asyncMethod !== null) {
      requireCallable(asyncMethod, "Symbol(Symbol.asyncDispose)");
      list.add(() => apply(asyncMethod, value, []));
      return value;
    }
    const syncMethod = (value as Record<symbol, unknown>)[disposeSymbol];
    requireCallable(syncMethod, "Symbol(Symbol.dispose)");
    // A sync disposer's result is not awaited, only the call.
    list.add(() => void apply(syncMethod, value, []));
    return value;
  }

  adopt(value: unknown, onDisposeAsync: unknown): unknown {
    const list = listOf(this, asyncLists, "AsyncDisposableStack", "adopt");
    list.check("AsyncDisposableStack", "adopt");
    requireCallable(onDisposeAsync);
    list.add(() => apply(onDisposeAsync, undefined, [value]));
    return value;
  }

  defer(onDisposeAsync: unknown): undefined {
    const list = listOf(this, asyncLists, "AsyncDisposableStack", "defer");
    list.check("AsyncDisposableStack", "defer");
    requireCallable(onDisposeAsync);
    list.add(() => apply(onDisposeAsync, undefined, []));
    return undefined;
  }

  move(): AsyncDisposableStack {
    const list = listOf(this, asyncLists, "AsyncDisposableStack", "move");
    list.check("AsyncDisposableStack", "move");
    const moved = Reflect.construct(AsyncDisposableStack, [], AsyncDisposableStack) as AsyncDisposableStack;
    const target = asyncLists.get(moved) as DisposerList;
    for (const disposer of list.disposers) target.add(disposer);
    list.disposers.length = 0;
    list.disposed = true;
    return moved;
  }
}

// --- RegExp.escape ---------------------------------------------------------------

const SYNTAX_CHARACTERS = "^$\\.*+?()[]{}|/";
const OTHER_PUNCTUATORS = ",-=<>#&!%:;@~'`\"";
const CONTROL_ESCAPES: Record<number, string> = { 9: "t", 10: "n", 11: "v", 12: "f", 13: "r" };

function hex(value: number, digits: number): string {
  return apply(stringPadStart, apply(numberToString, value, [16]) as string, [digits, "0"]) as string;
}

/** WhiteSpace or LineTerminator (ECMA-262 tables 35 and 36). */
function isWhiteSpaceOrLineTerminator(codePoint: number): boolean {
  return (
    (codePoint >= 9 && codePoint <= 13) ||
    codePoint === 0x20 ||
    codePoint === 0xa0 ||
    codePoint === 0x1680 ||
    (codePoint >= 0x2000 && codePoint <= 0x200a) ||
    codePoint === 0x2028 ||
    codePoint === 0x2029 ||
    codePoint === 0x202f ||
    codePoint === 0x205f ||
    codePoint === 0x3000 ||
    codePoint === 0xfeff
  );
}

function escapeCodePoint(codePoint: number): string {
  const character = String.fromCodePoint(codePoint);
  if (SYNTAX_CHARACTERS.includes(character)) return `\\${character}`;
  const control = CONTROL_ESCAPES[codePoint];
  if (control !== undefined) return `\\${control}`;
  const isLoneSurrogate = codePoint >= 0xd800 && codePoint <= 0xdfff;
  if (OTHER_PUNCTUATORS.includes(character) || isWhiteSpaceOrLineTerminator(codePoint) || isLoneSurrogate) {
    if (codePoint <= 0xff) return `\\x${hex(codePoint, 2)}`;
    // Outside Latin-1 these are all in the BMP, so one code unit each.
    return `\\u${hex(codePoint, 4)}`;
  }
  return character;
}

const regExpStatics = {
  escape(value: unknown): string {
    if (typeof value !== "string") throw new IntrinsicTypeError("input argument must be a string");
    let escaped = "";
    for (let index = 0; index < value.length; ) {
      const codePoint = apply(stringCodePointAt, value, [index]) as number;
      index += codePoint > 0xffff ? 2 : 1;
      const isInitialAlphanumeric = escaped === "" && ((codePoint >= 0x30 && codePoint <= 0x39) || (codePoint >= 0x41 && codePoint <= 0x5a) || (codePoint >= 0x61 && codePoint <= 0x7a));
      escaped += isInitialAlphanumeric ? `\\x${hex(codePoint, 2)}` : escapeCodePoint(codePoint);
    }
    return escaped;
  },
};

// --- install -------------------------------------------------------------------------

function installClass(global: typeof globalThis, name: string, value: Function, length: number, toStringTag: string | undefined): void {
  if (name in global) return;
  defineProperty(value, "name", { value: name, configurable: true });
  defineProperty(value, "length", { value: length, configurable: true });
  if (toStringTag !== undefined) defineProperty(value.prototype as object, Symbol.toStringTag, { value: toStringTag, configurable: true });
  defineMethod(global, name, value);
}

/** Installs every built-in above that V8 does not have. */
export function installEsBuiltins(global: typeof globalThis): void {
  installMethods(Object, objectStatics, { groupBy: 2 });
  installMethods(Map, mapStatics, { groupBy: 2 });
  installMethods(Promise, promiseStatics, { withResolvers: 0, try: 1 });
  installMethods(Array, arrayStatics, { fromAsync: 1 });
  installMethods(setPrototype, setMethods, { union: 1, intersection: 1, difference: 1, symmetricDifference: 1, isSubsetOf: 1, isSupersetOf: 1, isDisjointFrom: 1 });
  installMethods(RegExp, regExpStatics, { escape: 1 });

  // Well-known symbols are non-writable, non-configurable properties of Symbol.
  if (!("dispose" in Symbol)) defineProperty(Symbol, "dispose", { value: disposeSymbol, writable: false, enumerable: false, configurable: false });
  if (!("asyncDispose" in Symbol)) defineProperty(Symbol, "asyncDispose", { value: asyncDisposeSymbol, writable: false, enumerable: false, configurable: false });

  if (!("SuppressedError" in global)) {
    const prototype = Object.create(IntrinsicError.prototype) as object;
    defineHidden(prototype, "constructor", SuppressedError);
    defineHidden(prototype, "name", "SuppressedError");
    defineHidden(prototype, "message", "");
    defineProperty(SuppressedError, "prototype", { value: prototype, writable: false, enumerable: false, configurable: false });
    Object.setPrototypeOf(SuppressedError, IntrinsicError);
    installClass(global, "SuppressedError", SuppressedError, 3, undefined);
  }
  if (!("DisposableStack" in global)) {
    const prototype = DisposableStack.prototype as unknown as Record<symbol, unknown>;
    defineMethod(prototype, disposeSymbol, DisposableStack.prototype.dispose);
    installClass(global, "DisposableStack", DisposableStack, 0, "DisposableStack");
  }
  if (!("AsyncDisposableStack" in global)) {
    const prototype = AsyncDisposableStack.prototype as unknown as Record<symbol, unknown>;
    defineMethod(prototype, asyncDisposeSymbol, AsyncDisposableStack.prototype.disposeAsync);
    installClass(global, "AsyncDisposableStack", AsyncDisposableStack, 0, "AsyncDisposableStack");
  }
}
