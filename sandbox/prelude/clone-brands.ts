/**
 * Internal-slot ("brand") checks for structuredClone, captured at prelude
 * load: `instanceof` and `constructor` can be faked or patched by tenant
 * code, a built-in method called on the wrong kind of object cannot.
 */

const { bind, call } = Function.prototype;
const uncurryThis = bind.bind(call) as <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) => (self: T, ...args: A) => R;

function getterOf(target: object, name: PropertyKey): ((self: unknown) => unknown) | undefined {
  const get = Object.getOwnPropertyDescriptor(target, name)?.get;
  return get === undefined ? undefined : uncurryThis(get as (this: unknown) => unknown);
}

function passes(check: (self: unknown) => unknown, value: unknown): boolean {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

const dateTime = uncurryThis(Date.prototype.getTime as (this: unknown) => number);
const regExpSource = getterOf(RegExp.prototype, "source") as (self: unknown) => string;
const regExpFlags = getterOf(RegExp.prototype, "flags") as (self: unknown) => string;
const mapSize = getterOf(Map.prototype, "size") as (self: unknown) => number;
const setSize = getterOf(Set.prototype, "size") as (self: unknown) => number;
const booleanValue = uncurryThis(Boolean.prototype.valueOf as (this: unknown) => boolean);
const numberValue = uncurryThis(Number.prototype.valueOf as (this: unknown) => number);
const stringValue = uncurryThis(String.prototype.valueOf as (this: unknown) => string);
const bigintValue = uncurryThis(BigInt.prototype.valueOf as (this: unknown) => bigint);
const symbolValue = uncurryThis(Symbol.prototype.valueOf as (this: unknown) => symbol);
const weakMapHas = uncurryThis(WeakMap.prototype.has as (this: unknown, key: object) => boolean);
const weakSetHas = uncurryThis(WeakSet.prototype.has as (this: unknown, key: object) => boolean);
const weakRefDeref = uncurryThis(WeakRef.prototype.deref as (this: unknown) => unknown);
const mapEntries = uncurryThis(Map.prototype.entries as (this: unknown) => IterableIterator<[unknown, unknown]>);
const setValues = uncurryThis(Set.prototype.values as (this: unknown) => IterableIterator<unknown>);
const objectToString = uncurryThis(Object.prototype.toString as (this: unknown) => string);
const arrayBufferResizable = getterOf(ArrayBuffer.prototype, "resizable");
const arrayBufferMaxByteLength = getterOf(ArrayBuffer.prototype, "maxByteLength");
const arrayBufferDetached = getterOf(ArrayBuffer.prototype, "detached");
const arrayBufferTransfer = (ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer) => ArrayBuffer }).transfer;

/** The intrinsic typed-array constructors by name. */
export const TYPED_ARRAYS: Readonly<Record<string, new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** The intrinsic ArrayBuffer, DataView, Date, RegExp, Map, Set and Error constructors. */
export const Intrinsics = { ArrayBuffer, DataView, Date, RegExp, Map, Set, Object, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

/** The time value of a real Date, or undefined. */
export function dateValue(value: object): number | undefined {
  return passes(dateTime, value) ? dateTime(value) : undefined;
}

/** Source and flags of a real RegExp, or undefined. */
export function regExpParts(value: object): { source: string; flags: string } | undefined {
  if (value === RegExp.prototype || !passes(regExpSource, value)) return undefined;
  return { source: regExpSource(value), flags: regExpFlags(value) };
}

/** Entries of a real Map (iterated with the intrinsic iterator), or undefined. */
export function mapEntryList(value: object): Array<[unknown, unknown]> | undefined {
  return passes(mapSize, value) ? Array.from({ [Symbol.iterator]: () => mapEntries(value) }) : undefined;
}

/** Values of a real Set, or undefined. */
export function setValueList(value: object): unknown[] | undefined {
  return passes(setSize, value) ? Array.from({ [Symbol.iterator]: () => setValues(value) }) : undefined;
}

/** The primitive in a Boolean, Number, String or BigInt wrapper; `{ symbol: true }` for a Symbol wrapper; undefined otherwise. */
export function boxedPrimitive(value: object): { primitive: boolean | number | string | bigint } | { symbol: true } | undefined {
  if (passes(booleanValue, value)) return { primitive: booleanValue(value) };
  if (passes(numberValue, value)) return { primitive: numberValue(value) };
  if (passes(stringValue, value)) return { primitive: stringValue(value) };
  if (passes(bigintValue, value)) return { primitive: bigintValue(value) };
  if (passes(symbolValue, value)) return { symbol: true };
  return undefined;
}

/** True for objects whose internal slots the HTML Standard refuses to serialise (weak collections, promises). */
export function isUnserializableBuiltin(value: object): boolean {
  const probe = {};
  return (
    passes((self) => weakMapHas(self, probe), value) ||
    passes((self) => weakSetHas(self, probe), value) ||
    passes(weakRefDeref, value) ||
    value instanceof Promise
  );
}

/** True if the object carries [[ErrorData]] (its builtin tag is "Error"). */
export function isErrorObject(value: object): boolean {
  return objectToString(value) === "[object Error]";
}

/** True if a real ArrayBuffer is detached (transferred away). */
export function isDetached(buffer: ArrayBuffer): boolean {
  return arrayBufferDetached !== undefined && arrayBufferDetached(buffer) === true;
}

/** maxByteLength of a resizable ArrayBuffer, or undefined for a fixed-length one. */
export function resizableMaxByteLength(buffer: ArrayBuffer): number | undefined {
  if (arrayBufferResizable === undefined || arrayBufferMaxByteLength === undefined || arrayBufferResizable(buffer) !== true) return undefined;
  return arrayBufferMaxByteLength(buffer) as number;
}

/** Detaches `buffer`, moving its memory into the returned one; undefined if this V8 cannot transfer. */
export function transferBuffer(buffer: ArrayBuffer): ArrayBuffer | undefined {
  return arrayBufferTransfer === undefined ? undefined : (uncurryThis(arrayBufferTransfer)(buffer) as ArrayBuffer);
}

/** True if ArrayBuffer transfer is available in this isolate. */
export function canTransfer(): boolean {
  return arrayBufferTransfer !== undefined;
}
