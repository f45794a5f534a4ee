/**
 * The ECMAScript built-ins the prelude adds to Node 20's V8
 * (sandbox/prelude/es-builtins.ts), on the spec edges the workerd
 * differential test (route /es-builtins) does not reach: what stays right
 * when tenant code patches the intrinsics, the order arguments are read in,
 * live iteration, property shapes, and the lazy module's placeholders
 * (sandbox/prelude/es-builtins-lazy.ts).
 */
import test from "ava";
import { sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("Set methods use the intrinsic Set operations: a patched Set.prototype.add, has or iterator (after the module loaded) changes no result", async (t) => {
  const result = await run(`(() => {
    void Set.prototype.union; // loads the lazy module, which captures the intrinsics now
    const saved = { add: Set.prototype.add, has: Set.prototype.has, values: Set.prototype.values, iterator: Set.prototype[Symbol.iterator] };
    Set.prototype.add = function () { throw new Error("patched add"); };
    Set.prototype.has = function () { throw new Error("patched has"); };
    Set.prototype.values = Set.prototype[Symbol.iterator] = function () { throw new Error("patched values"); };
    try {
      const a = new (class extends Set {})();
      saved.add.call(a, 1); saved.add.call(a, 2);
      const setLike = { size: 1, has: (v) => v === 2, keys: () => [2][Symbol.iterator]() };
      const spread = (set) => Array.from({ length: set.size }, (_, i) => i).length;
      return [spread(a.union(setLike)), spread(a.intersection(setLike)), spread(a.difference(setLike)), a.isSupersetOf(setLike), Object.getPrototypeOf(a.union(setLike)) === Set.prototype];
    } finally {
      Object.assign(Set.prototype, { add: saved.add, has: saved.has, values: saved.values });
      Set.prototype[Symbol.iterator] = saved.iterator;
    }
  })()`);
  t.deepEqual(result, [2, 1, 1, true, true]);
});

test("Set methods read size, has and keys in the spec's order and open keys() before copying this set", async (t) => {
  const result = await run(`(() => {
    const log = [];
    const base = new Set([1]);
    const other = {
      get size() { log.push("size"); return 1; },
      get has() { log.push("has"); return () => false; },
      get keys() { log.push("keys"); return () => { base.add(5); return [2][Symbol.iterator](); }; },
    };
    const union = [...base.union(other)];
    const sizeOnly = (() => { try { new Set().union({ size: NaN, get has() { log.push("late has"); } }); } catch (error) { return error.name; } })();
    return [log, union, sizeOnly];
  })()`);
  t.deepEqual(result, [["size", "has", "keys"], [1, 5, 2], "TypeError"]);
});

test("isSubsetOf walks this set live and stops at the first miss; isSupersetOf closes the other's keys iterator when it stops", async (t) => {
  const result = await run(`(() => {
    const calls = [];
    const subset = new Set([1, 2, 3]).isSubsetOf({ size: 10, has: (v) => (calls.push(v), v !== 2), keys() {} });
    let closed = 0;
    const superset = new Set([1]).isSupersetOf({ size: 1, has() {}, keys: () => ({ next: () => ({ value: 9, done: false }), return: () => (closed++, {}) }) });
    return [subset, calls, superset, closed];
  })()`);
  t.deepEqual(result, [false, [1, 2], false, 1]);
});

test("Promise.withResolvers and Promise.try honour a subclass receiver; IsConstructor reads nothing of it", async (t) => {
  const result = await run(`(async () => {
    class Tracked extends Promise {}
    const { promise } = Promise.withResolvers.call(Tracked);
    const tried = Promise.try.call(Tracked, () => 1);
    let prototypeReads = 0;
    const target = function () {};
    const spy = new Proxy(target, { get(object, key) { if (key === "prototype") prototypeReads++; return Reflect.get(object, key); } });
    try { Promise.withResolvers.call(spy); } catch {}
    return [promise instanceof Tracked, tried instanceof Tracked, await tried, prototypeReads];
  })()`);
  // The proxy is read once by \`new C(executor)\` itself (OrdinaryCreateFromConstructor), never by the check.
  t.deepEqual(result, [true, true, 1, 1]);
});

test("Array.fromAsync builds with a constructor receiver, rejects rather than throws, and closes the iterator when the mapper throws", async (t) => {
  const result = await run(`(async () => {
    function Bag() { this.kind = "bag"; }
    const bag = await Array.fromAsync.call(Bag, [1, 2]);
    const notThrown = Array.fromAsync(null);
    let closed = false;
    const iterable = { [Symbol.iterator]: () => ({ next: () => ({ value: 1, done: false }), return: () => { closed = true; return {}; } }) };
    const mapped = await Array.fromAsync(iterable, () => { throw new RangeError("mapper"); }).catch((error) => error.name);
    return [bag.kind, bag.length, bag[1], notThrown instanceof Promise, await notThrown.catch((error) => error.name), mapped, closed];
  })()`);
  t.deepEqual(result, ["bag", 2, 2, true, "TypeError", "RangeError", true]);
});

test("Object.groupBy applies ToPropertyKey once per key (toString objects, symbols) and gives a null-prototype object", async (t) => {
  const result = await run(`(() => {
    let conversions = 0;
    const key = { toString() { conversions++; return "k"; } };
    const symbol = Symbol("s");
    const groups = Object.groupBy([1, 2, 3], (value) => (value === 3 ? symbol : key));
    return [conversions, groups.k, groups[symbol], Object.getPrototypeOf(groups), Object.getOwnPropertyDescriptor(groups, "k").enumerable];
  })()`);
  t.deepEqual(result, [2, [1, 2], [3], null, true]);
});

test("the new built-ins have the shapes of native ones: not enumerable, spec names and lengths, well-known symbols fixed", async (t) => {
  const result = await run(`(() => {
    const shape = (object, key) => { const d = Object.getOwnPropertyDescriptor(object, key); return [d.writable, d.enumerable, d.configurable]; };
    return [
      shape(Object, "groupBy"), shape(Set.prototype, "union"), shape(globalThis, "DisposableStack"),
      shape(Symbol, "dispose"), shape(Symbol, "asyncDispose"),
      [Object.groupBy.name, Set.prototype.isDisjointFrom.name, Promise.try.name, RegExp.escape.name, DisposableStack.name, SuppressedError.name],
      [DisposableStack.prototype.adopt.length, AsyncDisposableStack.prototype.use.length, SuppressedError.length, RegExp.escape.length],
      Object.keys(globalThis).filter((name) => /Disposable|Suppressed/.test(name)),
    ];
  })()`);
  t.deepEqual(result, [
    [true, false, true],
    [true, false, true],
    [true, false, true],
    [false, false, false],
    [false, false, false],
    ["groupBy", "isDisjointFrom", "try", "escape", "DisposableStack", "SuppressedError"],
    [2, 1, 3, 1],
    [],
  ]);
});

test("esbuild's lowered `using` disposes through the prelude's Symbol.dispose, in reverse order, errors wrapped as SuppressedError", async (t) => {
  // What esbuild's __using/__callDispose helpers do for an es2022 target: they look up Symbol.dispose first.
  const result = await run(`(() => {
    const known = (name) => Symbol[name] ?? Symbol.for("Symbol." + name);
    const order = [];
    const resource = (name, fail) => ({ [Symbol.dispose]() { order.push(name); if (fail) throw new Error(name); } });
    const stack = new DisposableStack();
    stack.use(resource("a", true));
    stack.use(resource("b", true));
    let error;
    try { stack.dispose(); } catch (caught) { error = caught; }
    return [known("dispose") === Symbol.dispose, order, error instanceof SuppressedError, error.error.message, error.suppressed.message, error.message];
  })()`);
  t.deepEqual(result, [true, ["b", "a"], true, "a", "b", "An error was suppressed during disposal"]);
});

test("the built-ins are placeholders until the first read, which installs them all as data properties; `in` loads nothing", async (t) => {
  // A fresh isolate per test: the shared one may have loaded the module already.
  const result = await withPrelude({}, async (harness) =>
    harness.evaluate(`(() => {
      const kind = (object, key) => { const d = Object.getOwnPropertyDescriptor(object, key); return d === undefined ? "none" : "value" in d ? "data" : "accessor"; };
      const before = [kind(Object, "groupBy"), kind(Set.prototype, "union"), kind(globalThis, "Iterator"), "groupBy" in Object, kind(Object, "groupBy")];
      const value = typeof Object.groupBy;
      const after = [kind(Object, "groupBy"), kind(Set.prototype, "union"), kind(Uint8Array.prototype, "toHex"), kind(globalThis, "DisposableStack")];
      return [before, value, after, typeof Symbol.dispose, kind(Symbol, "dispose")];
    })()`),
  );
  t.deepEqual(result, [["accessor", "accessor", "accessor", true, "accessor"], "function", ["data", "data", "data", "data"], "symbol", "data"]);
});

test("every property the lazy module installs had a placeholder, and none is left after it loads", async (t) => {
  const result = await withPrelude({}, async (harness) =>
    harness.evaluate(`(() => {
      const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
      const targets = { globalThis, Object, Map, Promise, Array, SetPrototype: Set.prototype, RegExp, Uint8Array, Uint8ArrayPrototype: Uint8Array.prototype, iteratorPrototype };
      const keysOf = (object) => Reflect.ownKeys(object).map(String);
      // Every placeholder getter comes from the same function literal, so its source names them all.
      const placeholderSource = String(Object.getOwnPropertyDescriptor(Object, "groupBy").get);
      const placeholders = () => Object.entries(targets).flatMap(([name, object]) =>
        Reflect.ownKeys(object).filter((key) => String(Object.getOwnPropertyDescriptor(object, key).get) === placeholderSource).map((key) => name + "." + String(key)));
      const before = Object.fromEntries(Object.entries(targets).map(([name, object]) => [name, keysOf(object)]));
      const placeholdersBefore = placeholders();
      void Object.groupBy;
      const added = {};
      for (const [name, object] of Object.entries(targets)) {
        // Iterator.prototype's constructor and @@toStringTag are the spec's own accessors, added by the module.
        const extra = keysOf(object).filter((key) => !before[name].includes(key) && !(name === "iteratorPrototype" && (key === "Symbol(Symbol.toStringTag)" || key === "constructor")));
        if (extra.length > 0) added[name] = extra;
      }
      const leftover = placeholders();
      const nowFunctions = placeholdersBefore.every((path) => { const [name, key] = path.split("."); return typeof Object.getOwnPropertyDescriptor(targets[name], key).value === "function"; });
      return [added, leftover, placeholdersBefore.length, nowFunctions];
    })()`),
  );
  t.deepEqual(result, [{}, [], 34, true]);
});

test("a placeholder assigned before the first read keeps the assigned value; a frozen object's placeholder reads undefined instead of recursing", async (t) => {
  const result = await withPrelude({}, async (harness) =>
    harness.evaluate(`(() => {
      const mine = () => "mine";
      Object.groupBy = mine;
      const assigned = Object.groupBy === mine && !Object.getOwnPropertyDescriptor(Object, "groupBy").enumerable;
      const set = new Set();
      set.union = 5;
      const onInstance = [Object.getOwnPropertyDescriptor(set, "union").value, "get" in Object.getOwnPropertyDescriptor(Set.prototype, "union")];
      Object.freeze(RegExp);
      const frozen = RegExp.escape;
      return [assigned, onInstance, frozen, typeof Promise.withResolvers, typeof Set.prototype.union];
    })()`),
  );
  t.deepEqual(result, [true, [5, true], undefined, "function", "function"]);
});

test("a lazy module that fails to load (a built-in it calls while loading sabotaged) is asked of the host once: later reads rethrow at no host cost", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(() => {
      Set.prototype.values = () => { throw new Error("sabotaged"); };
      const reads = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        try { reads.push(typeof Object.groupBy); } catch (error) { reads.push(error.message); }
      }
      return reads;
    })()`);
    t.deepEqual(result, ["sabotaged", "sabotaged", "sabotaged"]);
    t.deepEqual(
      harness.loadedModules.filter((name) => name === "es-builtins"),
      ["es-builtins"],
    );
  });
});
