/**
 * Placeholders for the ECMAScript built-ins newer than Node 20's V8
 * (es-builtins.ts, es-iterator-helpers.ts, es-base64-hex.ts), which live
 * in a lazy module: installed in every isolate they cost about 0.2 MB of
 * RSS each (measured with bench/isolate-probe.ts: 1.95 MB without them,
 * 2.17 MB with them; serve's budget is 2 MiB per warm isolate), and most
 * apps never touch them. Each one is an accessor here until the first read
 * of any of them loads the module, which replaces them all with the real
 * data properties. `in` and hasOwnProperty see them from the start, so
 * feature tests that do not read the value load nothing.
 *
 * The module captures the built-ins its algorithms call (Set.prototype.add,
 * the typed-array getters, Reflect.apply, ...) when it loads, not when the
 * prelude does: tenant code that patched one of those before its first read
 * of a new built-in changes that built-in's results in its own isolate, and
 * nothing the host reads (the host checks every value that leaves an
 * isolate itself). Loading it eagerly to capture them earlier is what costs
 * the 0.2 MB.
 *
 * The placeholders themselves cost about 65 KB per isolate (bench/isolate-probe.ts:
 * 1.78 MB of heap without them, 1.85 MB with them): V8 copies a built-in
 * object's map and descriptors when a property is added to it, some 8 KB
 * for each of the ten objects touched, whether the property is a
 * placeholder or the real method.
 *
 * The well-known symbols Symbol.dispose and Symbol.asyncDispose are made
 * here, eagerly: they are non-configurable (tenant code cannot swap them)
 * and esbuild's lowering of `using` reads them.
 */
import { loadLazyModule } from "./streams-lazy-module.js";

const { defineProperty, deleteProperty, getOwnPropertyDescriptor, get } = Reflect;

const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

/** Each target and the keys the lazy module defines on it (kept in step with it by test/prelude-es-builtins.test.ts). */
function lazyTargets(global: typeof globalThis): ReadonlyArray<readonly [object, readonly PropertyKey[]]> {
  return [
    [global, ["DisposableStack", "AsyncDisposableStack", "SuppressedError", "Iterator"]],
    [Object, ["groupBy"]],
    [Map, ["groupBy"]],
    [Promise, ["withResolvers", "try"]],
    [Array, ["fromAsync"]],
    [Set.prototype, ["union", "intersection", "difference", "symmetricDifference", "isSubsetOf", "isSupersetOf", "isDisjointFrom"]],
    [RegExp, ["escape"]],
    [Uint8Array, ["fromBase64", "fromHex"]],
    [Uint8Array.prototype, ["toBase64", "toHex", "setFromBase64", "setFromHex"]],
    [iteratorPrototype, ["map", "filter", "take", "drop", "flatMap", "reduce", "toArray", "forEach", "some", "every", "find"]],
  ];
}

interface LazyBuiltinsModule {
  installAll(global: typeof globalThis): void;
}

/** Defines the placeholders and the two symbols on `global` and the built-in objects, where V8 has none. */
export function installLazyEsBuiltins(global: typeof globalThis): void {
  for (const name of ["dispose", "asyncDispose"]) {
    if (!(name in Symbol)) defineProperty(Symbol, name, { value: Symbol(`Symbol.${name}`), writable: false, enumerable: false, configurable: false });
  }
  const placeholders: Array<readonly [object, PropertyKey, Function]> = [];
  let loaded = false;
  const load = (): void => {
    if (loaded) return;
    // First the module itself: if it cannot load (the host refused, or built-ins it calls while loading were sabotaged), the placeholders stay and the next read tries again.
    const module = loadLazyModule<LazyBuiltinsModule>("es-builtins");
    loaded = true;
    // Only our own placeholders go: a property the tenant has set meanwhile stays, and the module leaves keys that exist alone.
    for (const [target, key, getter] of placeholders) {
      if (getOwnPropertyDescriptor(target, key)?.get === getter) deleteProperty(target, key);
    }
    module.installAll(global);
  };
  for (const [target, keys] of lazyTargets(global)) {
    // One defineProperties per object: each property added on its own copies the object's map.
    const descriptors: PropertyDescriptorMap = {};
    for (const key of keys) {
      if (key in target) continue;
      const getter = function (this: unknown): unknown {
        load();
        // Still this placeholder: the tenant froze the object before the first read, so nothing could replace it.
        if (getOwnPropertyDescriptor(target, key)?.get === getter) return undefined;
        return get(target, key, this);
      };
      descriptors[key as string] = {
        get: getter,
        // An assignment before the first read stores the value, as on a data property: on the object itself, or as an own property of the receiver.
        set(this: unknown, value: unknown) {
          const receiver = this === target ? target : Object(this);
          defineProperty(receiver, key, { value, writable: true, enumerable: receiver !== target, configurable: true });
        },
        enumerable: false,
        configurable: true,
      };
      placeholders.push([target, key, getter]);
    }
    Object.defineProperties(target, descriptors);
  }
}
