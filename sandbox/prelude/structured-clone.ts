/**
 * structuredClone per the HTML Standard's StructuredSerializeInternal and
 * StructuredDeserialize, done in one pass inside the one realm: primitives,
 * boxed primitives, Date, RegExp (source and flags; lastIndex is not kept),
 * ArrayBuffer (resizable ones stay resizable) and every view (views on one
 * buffer still share the copy), Map, Set, arrays, plain objects, Error types
 * (name when it is a standard one, message, stack, cause), DOMException,
 * Blob and File; shared references and cycles are kept. Anything else with
 * internal slots (functions, symbols, WeakMap, WeakSet, WeakRef, Promise,
 * the prelude's other Web classes) throws a DataCloneError. Types are told
 * by internal slots (clone-brands.ts), not by prototypes tenants can fake.
 *
 * `transfer` takes ArrayBuffers: the clone gets their bytes and the
 * originals are detached (ArrayBuffer.prototype.transfer, enabled on the
 * host by sandbox/v8-flags.ts; without it a transfer is a DataCloneError).
 */
import { blobBytes, createBlob, isBlob } from "./blob.js";
import {
  boxedPrimitive,
  canTransfer,
  dateValue,
  Intrinsics,
  isDetached,
  isErrorObject,
  isUnserializableBuiltin,
  mapEntryList,
  regExpParts,
  resizableMaxByteLength,
  setValueList,
  transferBuffer,
  TYPED_ARRAYS,
} from "./clone-brands.js";
import { DOMException } from "./dom-exception.js";
import { createFile, isFile } from "./file.js";
import { arrayBufferByteLength, IntrinsicUint8Array, isArrayBuffer, isArrayBufferView, typedArrayName, typedArraySet, viewParts } from "./intrinsics.js";

const ERROR_NAMES = new Set(["Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"]);
const hasOwn = Object.prototype.hasOwnProperty;
const objectKeys = Object.keys;
const defineProperty = Object.defineProperty;
const getPrototypeOf = Object.getPrototypeOf;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;

function dataCloneError(message: string): DOMException {
  return new DOMException(message, "DataCloneError");
}

function describe(value: unknown): string {
  try {
    if (typeof value === "function") return `${(value as { name?: unknown }).name || "anonymous"}() {}`;
    if (typeof value === "symbol") return value.toString();
    return Object.prototype.toString.call(value);
  } catch {
    return "The value";
  }
}

function uncloneable(value: unknown): DOMException {
  return dataCloneError(`${describe(value)} could not be cloned.`);
}

/** Constructors of the prelude's Web classes; registered by the installer. */
const platformClasses: Function[] = [];

/** Marks instances of `ctor` as not serializable (Request, Response, Headers, ...). */
export function registerPlatformClass(ctor: Function): void {
  platformClasses.push(ctor);
}

function isPlatformObject(value: object): boolean {
  return platformClasses.some((ctor) => value instanceof ctor);
}

/** A fresh copy of a real ArrayBuffer (resizable ones keep their maximum). */
function copyArrayBuffer(buffer: ArrayBuffer): ArrayBuffer {
  if (isDetached(buffer)) throw dataCloneError("A detached ArrayBuffer could not be cloned.");
  const length = arrayBufferByteLength(buffer);
  const maxByteLength = resizableMaxByteLength(buffer);
  // lib ES2022 does not know resizable buffers; V8 11.3 has them.
  const Buffer = Intrinsics.ArrayBuffer as unknown as new (length: number, options?: { maxByteLength: number }) => ArrayBuffer;
  const copy = maxByteLength === undefined ? new Buffer(length) : new Buffer(length, { maxByteLength });
  typedArraySet(new IntrinsicUint8Array(copy), new IntrinsicUint8Array(buffer, 0, length));
  return copy;
}

class Cloner {
  readonly memory = new Map<object, unknown>();

  clone(value: unknown): unknown {
    if (typeof value === "symbol" || typeof value === "function") throw uncloneable(value);
    if (typeof value !== "object" || value === null) return value;
    const known = this.memory.get(value);
    if (known !== undefined || this.memory.has(value)) return known;
    return this.#object(value);
  }

  #remember<T>(original: object, copy: T): T {
    this.memory.set(original, copy);
    return copy;
  }

  #object(value: object): unknown {
    const boxed = boxedPrimitive(value);
    if (boxed !== undefined) {
      if ("symbol" in boxed) throw uncloneable(value);
      return this.#remember(value, Intrinsics.Object(boxed.primitive));
    }
    const time = dateValue(value);
    if (time !== undefined) return this.#remember(value, new Intrinsics.Date(time));
    const regExp = regExpParts(value);
    if (regExp !== undefined) return this.#remember(value, new Intrinsics.RegExp(regExp.source, regExp.flags));
    if (isArrayBuffer(value)) return this.#remember(value, copyArrayBuffer(value));
    if (isArrayBufferView(value)) return this.#view(value);
    if (isFile(value)) return this.#remember(value, createFile(blobBytes(value), value.type, value.name, value.lastModified));
    if (isBlob(value)) return this.#remember(value, createBlob(blobBytes(value), value.type));
    const entries = mapEntryList(value);
    if (entries !== undefined) {
      const copy = this.#remember(value, new Intrinsics.Map<unknown, unknown>());
      for (const [key, item] of entries) copy.set(this.clone(key), this.clone(item));
      return copy;
    }
    const members = setValueList(value);
    if (members !== undefined) {
      const copy = this.#remember(value, new Intrinsics.Set<unknown>());
      for (const item of members) copy.add(this.clone(item));
      return copy;
    }
    if (value instanceof DOMException) return this.#domException(value);
    if (isErrorObject(value)) return this.#error(value as Error);
    if (isUnserializableBuiltin(value) || isPlatformObject(value)) throw uncloneable(value);
    if (Array.isArray(value)) {
      const copy = this.#remember(value, new Array<unknown>(value.length));
      this.#properties(value, copy);
      return copy;
    }
    // Any other object, class instances included, becomes a plain object of its own enumerable properties.
    const copy = this.#remember(value, {});
    this.#properties(value, copy);
    return copy;
  }

  #properties(source: object, target: object): void {
    for (const key of objectKeys(source)) {
      // A getter run earlier may have deleted it: the spec skips keys that are gone.
      if (!hasOwn.call(source, key)) continue;
      (target as Record<string, unknown>)[key] = this.clone((source as Record<string, unknown>)[key]);
    }
  }

  #view(view: ArrayBufferView): unknown {
    const { buffer, byteOffset, byteLength } = viewParts(view);
    const bufferCopy = this.clone(buffer) as ArrayBuffer;
    const name = typedArrayName(view);
    if (name === undefined) return this.#remember(view, new Intrinsics.DataView(bufferCopy, byteOffset, byteLength));
    const ctor = TYPED_ARRAYS[name] as (typeof TYPED_ARRAYS)[string] & { BYTES_PER_ELEMENT: number };
    return this.#remember(view, new ctor(bufferCopy, byteOffset, byteLength / ctor.BYTES_PER_ELEMENT));
  }

  #domException(value: DOMException): unknown {
    const copy = this.#remember(value, new DOMException(value.message, value.name));
    this.#stack(value, copy);
    return copy;
  }

  /** The spec's Error serialisation: a standard name or "Error", the own message, plus stack and cause. */
  #error(value: Error): unknown {
    const rawName = (value as { name?: unknown }).name;
    const name = typeof rawName === "string" && ERROR_NAMES.has(rawName) ? rawName : "Error";
    const message = getOwnPropertyDescriptor(value, "message");
    const ctor = Intrinsics[name as keyof typeof Intrinsics] as ErrorConstructor;
    const copy = this.#remember(value, message !== undefined && "value" in message ? new ctor(String(message.value)) : new ctor());
    if (getPrototypeOf(copy) !== ctor.prototype) throw uncloneable(value);
    this.#stack(value, copy);
    if (hasOwn.call(value, "cause")) {
      defineProperty(copy, "cause", { value: this.clone((value as { cause?: unknown }).cause), writable: true, enumerable: false, configurable: true });
    }
    return copy;
  }

  #stack(source: object, copy: object): void {
    const stack = (source as { stack?: unknown }).stack;
    if (typeof stack === "string") defineProperty(copy, "stack", { value: stack, writable: true, enumerable: false, configurable: true });
  }
}

/** The transfer list checked as the spec asks: real, distinct, attached ArrayBuffers. */
function transferList(options: unknown): ArrayBuffer[] {
  if (options === undefined || options === null) return [];
  if (typeof options !== "object") throw new TypeError("structuredClone: options must be an object");
  const transfer = (options as { transfer?: unknown }).transfer;
  if (transfer === undefined) return [];
  if (typeof transfer !== "object" || transfer === null || typeof (transfer as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new TypeError("structuredClone: transfer must be a sequence");
  }
  const list: ArrayBuffer[] = [];
  for (const item of transfer as Iterable<unknown>) {
    if (!isArrayBuffer(item)) throw dataCloneError(`${describe(item)} is not a transferable object.`);
    if (list.includes(item)) throw dataCloneError("An ArrayBuffer is listed twice in the transfer list.");
    if (isDetached(item)) throw dataCloneError("A detached ArrayBuffer cannot be transferred.");
    list.push(item);
  }
  if (list.length > 0 && !canTransfer()) throw dataCloneError("Transferring ArrayBuffers is not supported by this isolate.");
  return list;
}

/** A deep copy of `value` (see module comment); ArrayBuffers in `options.transfer` are detached. */
export function structuredClone(value: unknown, options?: { transfer?: unknown[] }): unknown {
  if (arguments.length === 0) throw new TypeError("structuredClone: 1 argument required, but only 0 present");
  const transfer = transferList(options);
  const cloner = new Cloner();
  // Transferred buffers are copied into the clone first (views in the value
  // still read them), then detached once the whole value is cloned.
  for (const buffer of transfer) cloner.memory.set(buffer, copyArrayBuffer(buffer));
  const copy = cloner.clone(value);
  for (const buffer of transfer) transferBuffer(buffer);
  return copy;
}
