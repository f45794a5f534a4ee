/**
 * ECMAScript built-ins of ES2024-2026 that workerd's V8 has and the V8 of
 * Node 20 (11.3), which runs our isolates, lacks: Object.groupBy and
 * Map.groupBy, Promise.withResolvers and Promise.try, Array.fromAsync and
 * RegExp.escape here; the Set methods (es-set-methods.ts) and explicit
 * resource management (es-disposable.ts) in their own modules. Real
 * Workers code uses them (a bundle built for workerd does not lower them),
 * so without them it fails here with a TypeError where it works on Workers.
 *
 * Each follows its spec's steps where they are observable (argument checks
 * and their order, which methods of an argument are read and when, which
 * iterators are closed), and is installed only where V8 has none, so a
 * newer V8 keeps its own. The algorithms use intrinsics captured when the
 * lazy module loads (es-builtins-lazy.ts says when that is): tenant code
 * patching Map.prototype.set or Array.prototype.push afterwards changes
 * what its own calls see, as with native built-ins, and nothing else.
 * Syntax (`using`, RegExp modifiers) is not here: esbuild lowers `using`
 * for our es2022 target, and a regular expression's syntax is V8's.
 */
import { installMethods, isConstructor, isObject, requireCallable, toIntegerOrInfinity } from "./es-builtin-support.js";
import { installResourceManagement } from "./es-disposable.js";
import { installSetMethods } from "./es-set-methods.js";

const { apply, defineProperty, ownKeys } = Reflect;
const IntrinsicMap = Map;
const IntrinsicArray = Array;
const IntrinsicTypeError = TypeError;
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const arrayPush = Array.prototype.push;
const stringCodePointAt = String.prototype.codePointAt;
const numberToString = Number.prototype.toString;
const stringPadStart = String.prototype.padStart;

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


/** Installs every built-in of the three modules that V8 does not have. */
export function installEsBuiltins(global: typeof globalThis): void {
  installMethods(Object, objectStatics, { groupBy: 2 });
  installMethods(Map, mapStatics, { groupBy: 2 });
  installMethods(Promise, promiseStatics, { withResolvers: 0, try: 1 });
  installMethods(Array, arrayStatics, { fromAsync: 1 });
  installMethods(RegExp, regExpStatics, { escape: 1 });
  installSetMethods();
  installResourceManagement(global);
}
