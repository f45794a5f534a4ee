/**
 * Built-ins the prelude needs where tenant code must not be able to change
 * the answer, captured when the prelude loads (before any tenant code runs),
 * in the style of Node's primordials: getters and methods are taken from the
 * intrinsic property descriptors and uncurried, so a later
 * `Object.defineProperty(%TypedArray%.prototype, "byteLength", ...)`,
 * a replaced `Uint8Array` global or a patched `Function.prototype.call`
 * changes nothing here.
 *
 * Sizes of what leaves the isolate are read only through these; the host
 * still re-checks everything it receives.
 */

const { bind, call } = Function.prototype;
/** uncurryThis(fn)(self, ...args) is fn.call(self, ...args), with `call` bound now. */
const uncurryThis = bind.bind(call) as <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) => (self: T, ...args: A) => R;

function getter<T>(target: object, name: PropertyKey): (self: T) => unknown {
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  const get = descriptor?.get;
  if (get === undefined) throw new TypeError(`edgehost prelude: intrinsic getter ${String(name)} is missing`);
  return uncurryThis(get as (this: T) => unknown);
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;

/** The Uint8Array constructor as it was at load. */
export const IntrinsicUint8Array = Uint8Array;
/** RangeError.prototype as it was at load (V8 throws instances of it for failed allocations). */
export const RangeErrorPrototype: object = RangeError.prototype;
/** Object.getPrototypeOf at load. */
export const getPrototypeOf = Object.getPrototypeOf;
/** Object.getOwnPropertyDescriptor at load. */
export const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
/** ArrayBuffer.isView at load: true for typed arrays and DataViews (an internal-slot check). */
export const isArrayBufferView = ArrayBuffer.isView;

const typedArrayBufferGetter = getter<ArrayBufferView>(TypedArrayPrototype, "buffer");
const typedArrayByteLengthGetter = getter<ArrayBufferView>(TypedArrayPrototype, "byteLength");
const typedArrayByteOffsetGetter = getter<ArrayBufferView>(TypedArrayPrototype, "byteOffset");
const typedArrayTagGetter = getter<unknown>(TypedArrayPrototype, Symbol.toStringTag);
const dataViewBufferGetter = getter<DataView>(DataView.prototype, "buffer");
const dataViewByteLengthGetter = getter<DataView>(DataView.prototype, "byteLength");
const dataViewByteOffsetGetter = getter<DataView>(DataView.prototype, "byteOffset");
const arrayBufferByteLengthGetter = getter<ArrayBuffer>(ArrayBuffer.prototype, "byteLength");
const typedArraySetMethod = uncurryThis((TypedArrayPrototype as Uint8Array).set as (this: Uint8Array, source: Uint8Array) => void);

/**
 * The typed-array name of `value` ("Uint8Array", ...) from its internal slot,
 * or undefined for anything that is not a typed array (never throws).
 */
export function typedArrayName(value: unknown): string | undefined {
  return typedArrayTagGetter(value) as string | undefined;
}

/** True if `value` is a real ArrayBuffer (not a look-alike, not a SharedArrayBuffer). */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  if (typeof value !== "object" || value === null || isArrayBufferView(value)) return false;
  try {
    arrayBufferByteLengthGetter(value as ArrayBuffer);
    return true;
  } catch {
    return false;
  }
}

/** Byte length of a real ArrayBuffer (throws TypeError for anything else). */
export function arrayBufferByteLength(buffer: ArrayBuffer): number {
  return arrayBufferByteLengthGetter(buffer) as number;
}

/** Buffer, offset and length of a typed array or DataView, from their internal slots. */
export function viewParts(view: ArrayBufferView): { buffer: ArrayBuffer; byteOffset: number; byteLength: number } {
  if (typedArrayName(view) !== undefined) {
    return {
      buffer: typedArrayBufferGetter(view) as ArrayBuffer,
      byteOffset: typedArrayByteOffsetGetter(view) as number,
      byteLength: typedArrayByteLengthGetter(view) as number,
    };
  }
  const dataView = view as DataView;
  return {
    buffer: dataViewBufferGetter(dataView) as ArrayBuffer,
    byteOffset: dataViewByteOffsetGetter(dataView) as number,
    byteLength: dataViewByteLengthGetter(dataView) as number,
  };
}

/** Byte length of a typed array from its internal slot. */
export function typedArrayByteLength(view: ArrayBufferView): number {
  return typedArrayByteLengthGetter(view) as number;
}

/** Byte offset of a typed array from its internal slot. */
export function typedArrayByteOffset(view: ArrayBufferView): number {
  return typedArrayByteOffsetGetter(view) as number;
}

/** The ArrayBuffer under a typed array, from its internal slot. */
export function typedArrayBuffer(view: ArrayBufferView): ArrayBuffer {
  return typedArrayBufferGetter(view) as ArrayBuffer;
}

/** `target.set(source)` with the intrinsic method (reads only internal slots, no species lookup). */
export function typedArraySet(target: Uint8Array, source: Uint8Array): void {
  typedArraySetMethod(target, source);
}

const StringPrototype = String.prototype;
/** `String.prototype.slice`, uncurried: cuts outgoing string bodies into chunks. */
export const stringSlice = uncurryThis(StringPrototype.slice as (this: string, start?: number, end?: number) => string);
/** `String.prototype.charCodeAt`, uncurried. */
export const stringCharCodeAt = uncurryThis(StringPrototype.charCodeAt as (this: string, index: number) => number);
/** `%TypedArray%.prototype.subarray`, uncurried (as a Uint8Array method). */
export const uint8Subarray = uncurryThis(IntrinsicUint8Array.prototype.subarray as (this: Uint8Array, start?: number, end?: number) => Uint8Array);

/**
 * `text` cut to `maxChars` UTF-16 units. Strings handed to the host are
 * copied on its event loop, so text the host would cut anyway (log lines,
 * error messages) is cut here first, with the intrinsic slice.
 */
export function clipString(text: string, maxChars: number): string {
  return text.length > maxChars ? stringSlice(text, 0, maxChars) : text;
}
