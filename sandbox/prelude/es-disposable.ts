/**
 * Explicit resource management as ES2026 has it and Node 20's V8 lacks:
 * Symbol.dispose and Symbol.asyncDispose (made eagerly by
 * es-builtins-lazy.ts, read here), SuppressedError, DisposableStack and
 * AsyncDisposableStack. Disposal runs last-added first; an error thrown
 * while an earlier one is pending wraps it in a SuppressedError with V8's
 * message, as `using` does. esbuild lowers the `using` syntax itself for
 * our es2022 target, through these symbols.
 */
import { defineHidden, defineMethod, installClass, isObject, requireCallable } from "./es-builtin-support.js";

const { apply, defineProperty } = Reflect;
const IntrinsicPromise = Promise;
const IntrinsicError = Error;
const IntrinsicTypeError = TypeError;
const IntrinsicReferenceError = ReferenceError;
const arrayPush = Array.prototype.push;

interface SuppressedErrorLike extends Error {
  error: unknown;
  suppressed: unknown;
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

  /** adopt(value, onDispose): onDispose(value) at disposal. */
  adopt(value: unknown, onDispose: unknown): void {
    requireCallable(onDispose);
    this.add(() => apply(onDispose, undefined, [value]));
  }

  /** defer(onDispose): onDispose() at disposal. */
  defer(onDispose: unknown): void {
    requireCallable(onDispose);
    this.add(() => apply(onDispose, undefined, []));
  }

  /** move(): every disposer goes to `target`, and this list is disposed. */
  moveTo(target: DisposerList): void {
    for (const disposer of this.disposers) target.add(disposer);
    this.disposers.length = 0;
    this.disposed = true;
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

/** The list of a stack that is not disposed yet, for a method that adds to it or moves it. */
function openListOf(self: unknown, lists: WeakMap<object, DisposerList>, stackName: string, method: string): DisposerList {
  const list = listOf(self, lists, stackName, method);
  list.check(stackName, method);
  return list;
}

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
    const list = openListOf(this, syncLists, "DisposableStack", "use");
    if (value === undefined || value === null) return value;
    if (!isObject(value)) throw new IntrinsicTypeError("DisposableStack.prototype.use: the value is not an object");
    const method = (value as Record<symbol, unknown>)[disposeSymbol];
    requireCallable(method, "Symbol(Symbol.dispose)");
    list.add(() => apply(method, value, []));
    return value;
  }

  adopt(value: unknown, onDispose: unknown): unknown {
    openListOf(this, syncLists, "DisposableStack", "adopt").adopt(value, onDispose);
    return value;
  }

  defer(onDispose: unknown): undefined {
    openListOf(this, syncLists, "DisposableStack", "defer").defer(onDispose);
    return undefined;
  }

  move(): DisposableStack {
    const list = openListOf(this, syncLists, "DisposableStack", "move");
    // The new stack is a plain DisposableStack, whatever subclass this is.
    const moved = Reflect.construct(DisposableStack, [], DisposableStack) as DisposableStack;
    list.moveTo(syncLists.get(moved) as DisposerList);
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
    const list = openListOf(this, asyncLists, "AsyncDisposableStack", "use");
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
    openListOf(this, asyncLists, "AsyncDisposableStack", "adopt").adopt(value, onDisposeAsync);
    return value;
  }

  defer(onDisposeAsync: unknown): undefined {
    openListOf(this, asyncLists, "AsyncDisposableStack", "defer").defer(onDisposeAsync);
    return undefined;
  }

  move(): AsyncDisposableStack {
    const list = openListOf(this, asyncLists, "AsyncDisposableStack", "move");
    const moved = Reflect.construct(AsyncDisposableStack, [], AsyncDisposableStack) as AsyncDisposableStack;
    list.moveTo(asyncLists.get(moved) as DisposerList);
    return moved;
  }
}


/** Installs the symbols (if still missing), SuppressedError and the two stacks on `global`, where V8 has none. */
export function installResourceManagement(global: typeof globalThis): void {
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
