/**
 * What the ECMAScript built-in modules (es-builtins.ts, es-set-methods.ts,
 * es-disposable.ts) share: defining methods as V8 defines its own, and the
 * spec's abstract operations they all use. Part of the lazy module
 * "es-builtins" (es-builtins-lazy.ts).
 */

const { defineProperty, getPrototypeOf, ownKeys } = Reflect;
const IntrinsicTypeError = TypeError;

/** Defines `value` as a method-style data property (writable, not enumerable, configurable). */
export function defineMethod(target: object, key: PropertyKey, value: unknown): void {
  defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

/** Defines the functions of `methods` on `target`, each with its spec name and length, unless `target` has the key already. */
export function installMethods(target: object, methods: Record<string, Function>, lengths: Record<string, number>): void {
  for (const name of ownKeys(methods) as string[]) {
    if (name in target) continue;
    const method = methods[name] as Function;
    defineProperty(method, "name", { value: name, configurable: true });
    defineProperty(method, "length", { value: lengths[name] ?? 0, configurable: true });
    defineMethod(target, name, method);
  }
}

export function isObject(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

const constructProbe: ProxyHandler<Function> = { construct: () => constructProbe };

export function isConstructor(value: unknown): value is new (...args: unknown[]) => unknown {
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
export function renderForMessage(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "symbol") return value.toString();
  if (typeof value !== "object" || value === null) return String(value);
  const constructor = (getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor;
  return `#<${typeof constructor?.name === "string" ? constructor.name : "Object"}>`;
}

/** Throws V8's TypeError for a value that should be callable; `what` replaces the value where V8 names the property instead. */
export function requireCallable(value: unknown, what?: string): asserts value is Function {
  if (typeof value !== "function") throw new IntrinsicTypeError(`${what ?? renderForMessage(value)} is not a function`);
}

/** ToIntegerOrInfinity. */
export function toIntegerOrInfinity(value: unknown): number {
  const number = Number(value);
  if (number !== number || number === 0) return 0;
  if (!Number.isFinite(number)) return number;
  return Math.trunc(number);
}

/** Defines a data property that is not enumerable (an error's own fields, a prototype's name). */
export function defineHidden(target: object, key: string, value: unknown): void {
  defineProperty(target, key, { value, writable: true, enumerable: false, configurable: true });
}

/** Installs a global constructor with its spec name, length and optional @@toStringTag, unless the global has one. */
export function installClass(global: typeof globalThis, name: string, value: Function, length: number, toStringTag: string | undefined): void {
  if (name in global) return;
  defineProperty(value, "name", { value: name, configurable: true });
  defineProperty(value, "length", { value: length, configurable: true });
  if (toStringTag !== undefined) defineProperty(value.prototype as object, Symbol.toStringTag, { value: toStringTag, configurable: true });
  defineMethod(global, name, value);
}
