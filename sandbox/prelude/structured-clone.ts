/**
 * structuredClone for the types the HTML Standard's StructuredSerialize
 * handles inside one realm: primitives, plain objects, arrays, Date, RegExp,
 * Map, Set, ArrayBuffer, typed arrays, DataView, Error types and wrapper
 * objects, with shared references and cycles preserved. Anything else that is
 * not a plain object (functions, symbols, class instances with private state
 * such as Request) throws a DataCloneError DOMException.
 */
import { DOMException } from "./dom-exception.js";

const ERROR_TYPES: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

type TypedArrayConstructor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

function uncloneable(value: unknown): DOMException {
  let description: string;
  try {
    description = typeof value === "function" ? `${(value as Function).name || "anonymous"}() {}` : String(value);
  } catch {
    description = Object.prototype.toString.call(value);
  }
  return new DOMException(`${description} could not be cloned.`, "DataCloneError");
}

function cloneValue(value: unknown, memory: Map<object, unknown>): unknown {
  if (typeof value === "symbol" || typeof value === "function") throw uncloneable(value);
  if (typeof value !== "object" || value === null) return value;
  const known = memory.get(value);
  if (known !== undefined) return known;

  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    memory.set(value, copy);
    for (const key of Object.keys(value)) (copy as unknown as Record<string, unknown>)[key] = cloneValue((value as unknown as Record<string, unknown>)[key], memory);
    return copy;
  }
  if (value instanceof Date) return remember(memory, value, new Date(value.getTime()));
  if (value instanceof RegExp) return remember(memory, value, new RegExp(value.source, value.flags));
  if (value instanceof ArrayBuffer) return remember(memory, value, value.slice(0));
  if (ArrayBuffer.isView(value)) {
    const buffer = cloneValue(value.buffer, memory) as ArrayBuffer;
    if (value instanceof DataView) return remember(memory, value, new DataView(buffer, value.byteOffset, value.byteLength));
    const ctor = value.constructor as TypedArrayConstructor & { BYTES_PER_ELEMENT: number };
    const length = value.byteLength / ctor.BYTES_PER_ELEMENT;
    return remember(memory, value, new ctor(buffer, value.byteOffset, length));
  }
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    memory.set(value, copy);
    for (const [key, item] of Array.from(value)) copy.set(cloneValue(key, memory), cloneValue(item, memory));
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set<unknown>();
    memory.set(value, copy);
    for (const item of Array.from(value)) copy.add(cloneValue(item, memory));
    return copy;
  }
  if (value instanceof DOMException) {
    // DOMException is serializable in its own right: keep its class and name.
    const copy = new DOMException(value.message, value.name);
    memory.set(value, copy);
    if (typeof value.stack === "string") Object.defineProperty(copy, "stack", { value: value.stack, writable: true, configurable: true });
    return copy;
  }
  if (value instanceof Error) {
    const name = String(value.name);
    const ctor = Object.prototype.hasOwnProperty.call(ERROR_TYPES, name) ? (ERROR_TYPES[name] as ErrorConstructor) : Error;
    const copy = new ctor(String(value.message));
    memory.set(value, copy);
    if (typeof value.stack === "string") Object.defineProperty(copy, "stack", { value: value.stack, writable: true, configurable: true });
    if ("cause" in value) Object.defineProperty(copy, "cause", { value: cloneValue(value.cause, memory), writable: true, configurable: true });
    return copy;
  }
  if (value instanceof Boolean) return remember(memory, value, Object(value.valueOf()));
  if (value instanceof Number) return remember(memory, value, Object(value.valueOf()));
  if (value instanceof String) return remember(memory, value, Object(value.valueOf()));
  if (value instanceof BigInt) return remember(memory, value, Object(value.valueOf()));

  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // Platform objects (Request, Headers, ...) and Promises, WeakMaps and the
    // like are not serializable; ordinary class instances clone as plain objects.
    if (isPlatformObject(value)) throw uncloneable(value);
  }
  const copy: Record<string, unknown> = {};
  memory.set(value, copy);
  for (const key of Object.keys(value)) copy[key] = cloneValue((value as Record<string, unknown>)[key], memory);
  return copy;
}

function remember<T>(memory: Map<object, unknown>, original: object, copy: T): T {
  memory.set(original, copy);
  return copy;
}

const NOT_SERIALIZABLE: Function[] = [Promise, WeakMap, WeakSet, WeakRef];

/** Constructors of the prelude's Web classes; registered by the installer. */
const platformClasses: Function[] = [];

/** Marks instances of `ctor` as not serializable (Request, Response, Headers, ...). */
export function registerPlatformClass(ctor: Function): void {
  platformClasses.push(ctor);
}

function isPlatformObject(value: object): boolean {
  return NOT_SERIALIZABLE.some((ctor) => value instanceof ctor) || platformClasses.some((ctor) => value instanceof ctor);
}

/** A deep copy of `value` (see module comment); `transfer` is not supported and must be empty. */
export function structuredClone(value: unknown, options?: { transfer?: unknown[] }): unknown {
  if (arguments.length === 0) throw new TypeError("structuredClone: 1 argument required, but only 0 present");
  if (options?.transfer !== undefined && Array.from(options.transfer).length > 0) {
    throw new DOMException("structuredClone: transfer is not supported", "DataCloneError");
  }
  return cloneValue(value, new Map());
}
