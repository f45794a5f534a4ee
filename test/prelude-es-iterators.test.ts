/**
 * The Iterator global and the iterator helpers inside the prelude
 * (sandbox/prelude/es-iterator-helpers.ts), which V8 11.3 lacks: results,
 * laziness, which iterators are closed and when, argument errors and the
 * property shapes of ES2025 and Iterator.concat.
 */
import test from "ava";
import ivm from "isolated-vm";
import { HOST_FUNCTION_NAMES, HOST_GLOBAL } from "../sandbox/prelude/protocol.js";
import { lazyModuleSource } from "../sandbox/prelude-lazy-modules.js";
import { preludeScript, sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

/**
 * In-isolate helpers: `probe(values, returned, name)` is an iterator over
 * `values` inheriting Iterator.prototype that logs each read of `next`
 * ("get next"), each next() and each return() call (which answers
 * `returned`); `count(entry)` counts a log entry; `errorName(work)` is the
 * name of what `work` throws, or "none".
 */
const PROBE = `
  const log = [];
  const count = (entry) => log.filter((item) => item === entry).length;
  const errorName = (work) => { try { work(); return "none"; } catch (error) { return error.name; } };
  function probe(values, returned = {}, name = "") {
    let index = 0;
    const iterator = Object.create(Iterator.prototype);
    Object.defineProperty(iterator, "next", { get() {
      log.push(name + "get next");
      return () => { log.push(name + "next"); return index < values.length ? { value: values[index++], done: false } : { value: undefined, done: true }; };
    } });
    iterator.return = () => { log.push(name + "return"); return returned; };
    return iterator;
  }
`;

/** Evaluates `body` (statements ending in a return) after PROBE in the shared isolate. */
function probed<T = unknown>(body: string): Promise<T> {
  return run<T>(`(() => { ${PROBE}\n${body}\n})()`);
}

test("iterator helpers: everyday chains over arrays, Sets, Maps, strings and generators", async (t) => {
  const result = await run(`(() => {
    function* naturals() { for (let n = 1; ; n++) yield n; }
    return [
      [1, 2, 3].values().map((x) => x * 2).toArray(),
      new Set([1, 2, 3, 4]).values().filter((x) => x % 2 === 0).toArray(),
      new Map([["a", 1], ["b", 2]]).entries().map(([key, value]) => key + value).toArray(),
      naturals().drop(2).take(3).toArray(),
      naturals().flatMap((n) => [n, -n]).take(4).toArray(),
      [1, 2, 3, 4].values().reduce((sum, x) => sum + x),
      "héllo"[Symbol.iterator]().some((c) => c === "é"),
      [3, 5].keys().every((key) => key < 2),
      naturals().find((n) => n * n > 50),
    ];
  })()`);
  t.deepEqual(result, [[2, 4, 6], [2, 4], ["a1", "b2"], [3, 4, 5], [1, -1, 2, -2], 10, true, true, 8]);
});

test("Iterator: an abstract constructor, writable global, %IteratorPrototype% as a fixed prototype; subclasses work", async (t) => {
  const result = await run(`(() => {
    const errorName = (work) => { try { work(); return "none"; } catch (error) { return error.name; } };
    // The global is a lazy placeholder (es-builtins-lazy.ts) until its first read.
    void Iterator;
    const { writable, enumerable, configurable } = Object.getOwnPropertyDescriptor(globalThis, "Iterator");
    const proto = Object.getOwnPropertyDescriptor(Iterator, "prototype");
    class Countdown extends Iterator {
      #n = 3;
      next() { return this.#n > 0 ? { value: this.#n--, done: false } : { value: undefined, done: true }; }
    }
    const countdown = new Countdown();
    const viaConstruct = Reflect.construct(Iterator, [], Object);
    return [
      [writable, enumerable, configurable],
      [proto.value === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())), proto.writable, proto.enumerable, proto.configurable],
      [Iterator.name, Iterator.length, typeof Iterator, Object.getPrototypeOf(Iterator) === Function.prototype, Object.getOwnPropertyNames(Iterator).sort()],
      [errorName(() => Iterator()), errorName(() => new Iterator()), errorName(() => Reflect.construct(Iterator, [], Iterator))],
      [countdown instanceof Iterator, countdown.map((n) => n * 10).toArray(), Object.getPrototypeOf(viaConstruct) === Object.prototype],
      [[].values() instanceof Iterator, (function* () {})() instanceof Iterator, new Map().keys() instanceof Iterator],
    ];
  })()`);
  t.deepEqual(result, [
    [true, false, true],
    [true, false, false, false],
    ["Iterator", 0, "function", true, ["concat", "from", "length", "name", "prototype"]],
    ["TypeError", "TypeError", "TypeError"],
    [true, [30, 20, 10], true],
    [true, true, true],
  ]);
});

test("Iterator.prototype.constructor and @@toStringTag: accessor pairs whose setters ignore Iterator.prototype itself", async (t) => {
  const result = await run(`(() => {
    const errorName = (work) => { try { work(); return "none"; } catch (error) { return error.name; } };
    const shape = (key) => {
      const { get, set, enumerable, configurable } = Object.getOwnPropertyDescriptor(Iterator.prototype, key);
      return [get.name, get.length, set.name, set.length, enumerable, configurable];
    };
    const child = Object.create(Iterator.prototype);
    child.constructor = 1;
    child[Symbol.toStringTag] = "Child";
    const frozen = Object.create(Iterator.prototype, { constructor: { value: 0, writable: false } });
    const setTag = Object.getOwnPropertyDescriptor(Iterator.prototype, Symbol.toStringTag).set;
    const setConstructor = Object.getOwnPropertyDescriptor(Iterator.prototype, "constructor").set;
    return [
      shape("constructor"),
      shape(Symbol.toStringTag),
      [Iterator.prototype.constructor === Iterator, Iterator.prototype[Symbol.toStringTag], Object.prototype.toString.call(Iterator.from({ next() {} }))],
      [Object.getOwnPropertyDescriptor(child, "constructor"), Object.getOwnPropertyDescriptor(child, Symbol.toStringTag), String(child)],
      [errorName(() => { Iterator.prototype.constructor = 1; }), errorName(() => { Iterator.prototype[Symbol.toStringTag] = "x"; })],
      [errorName(() => setTag.call(1, "x")), errorName(() => setConstructor.call(frozen, 1)), frozen.constructor, Iterator.prototype.constructor === Iterator],
    ];
  })()`);
  const data = (value: unknown) => ({ value, writable: true, enumerable: true, configurable: true });
  t.deepEqual(result, [
    ["get constructor", 0, "set constructor", 1, false, true],
    ["get [Symbol.toStringTag]", 0, "set [Symbol.toStringTag]", 1, false, true],
    [true, "Iterator", "[object Iterator]"],
    [data(1), data("Child"), "[object Child]"],
    ["TypeError", "TypeError"],
    ["TypeError", "TypeError", 0, true],
  ]);
});

test("iterator helpers: names, lengths, descriptors and prototypes of the functions and helper objects", async (t) => {
  const result = await run(`(() => {
    const shape = (target, key) => {
      const { value, writable, enumerable, configurable } = Object.getOwnPropertyDescriptor(target, key);
      let constructible = true;
      try { Reflect.construct(function () {}, [], value); } catch { constructible = false; }
      return [key, value.name, value.length, writable, enumerable, configurable, constructible];
    };
    const methods = ["map", "filter", "take", "drop", "flatMap", "reduce", "toArray", "forEach", "some", "every", "find"];
    const helperProto = Object.getPrototypeOf([].values().map((x) => x));
    const wrapperProto = Object.getPrototypeOf(Iterator.from({ next() {} }));
    const tag = Object.getOwnPropertyDescriptor(helperProto, Symbol.toStringTag);
    return [
      methods.map((name) => shape(Iterator.prototype, name)),
      ["from", "concat"].map((name) => shape(Iterator, name)),
      [shape(helperProto, "next"), shape(helperProto, "return"), shape(wrapperProto, "next"), shape(wrapperProto, "return")],
      [Reflect.ownKeys(helperProto).length, Reflect.ownKeys(wrapperProto), tag.value, tag.writable, tag.enumerable, tag.configurable],
      [Object.getPrototypeOf(helperProto) === Iterator.prototype, Object.getPrototypeOf(wrapperProto) === Iterator.prototype],
      [Object.getPrototypeOf(Iterator.concat()) === helperProto, Object.getPrototypeOf([].values().flatMap((x) => x)) === helperProto],
      Object.keys(Iterator.prototype),
    ];
  })()`);
  const lengths: Record<string, number> = { toArray: 0 };
  t.deepEqual(result, [
    ["map", "filter", "take", "drop", "flatMap", "reduce", "toArray", "forEach", "some", "every", "find"].map((name) => [name, name, lengths[name] ?? 1, true, false, true, false]),
    [["from", "from", 1, true, false, true, false], ["concat", "concat", 0, true, false, true, false]],
    [
      ["next", "next", 0, true, false, true, false],
      ["return", "return", 0, true, false, true, false],
      ["next", "next", 0, true, false, true, false],
      ["return", "return", 0, true, false, true, false],
    ],
    [3, ["next", "return"], "Iterator Helper", false, false, true],
    [true, true],
    [true, true],
    [],
  ]);
});

test("iterator helpers: lazy, reading `next` once at creation and pulling one value per result", async (t) => {
  const result = await probed(`
    const steps = [];
    const mapped = probe([1, 2, 3]).map((x) => { log.push("map " + x); return x * 10; });
    steps.push(log.slice());
    steps.push(mapped.next());
    steps.push(log.slice());
    steps.push(mapped.toArray());
    steps.push(log.slice(3));
    log.length = 0;
    const filtered = probe([1, 2, 3, 4]).filter((x) => x > 2);
    const dropped = probe([1, 2, 3]).drop(2);
    const flat = probe([1]).flatMap((x) => [x, x]);
    steps.push([count("next"), count("get next"), filtered.next().value, count("next"), dropped.next().value, count("next"), flat.next().value, count("next")]);
    return steps;
  `);
  t.deepEqual(result, [
    ["get next"],
    { value: 10, done: false },
    ["get next", "next", "map 1"],
    [20, 30],
    ["next", "map 2", "next", "map 3", "next"],
    [0, 3, 3, 3, 3, 6, 1, 7],
  ]);
});

test("iterator helpers: callbacks get (value, counter); reduce starts counting at 1 without an initial value", async (t) => {
  const result = await run(`(() => {
    const calls = [];
    const record = (name) => (...args) => { calls.push([name, ...args]); return true; };
    ["a", "b"].values().map(record("map")).toArray();
    ["a", "b"].values().filter(record("filter")).toArray();
    ["a", "b"].values().flatMap((...args) => { calls.push(["flatMap", ...args]); return []; }).toArray();
    ["a", "b"].values().forEach(record("forEach"));
    ["a", "b"].values().every(record("every"));
    const sum = [1, 2, 3].values().reduce((acc, x, i) => { calls.push(["reduce", acc, x, i]); return acc + x; });
    const withInitial = [1].values().reduce((acc, x, i) => { calls.push(["reduce0", acc, x, i]); return acc; }, undefined);
    return [calls, sum, withInitial];
  })()`);
  t.deepEqual(result, [
    [
      ["map", "a", 0], ["map", "b", 1],
      ["filter", "a", 0], ["filter", "b", 1],
      ["flatMap", "a", 0], ["flatMap", "b", 1],
      ["forEach", "a", 0], ["forEach", "b", 1],
      ["every", "a", 0], ["every", "b", 1],
      ["reduce", 1, 2, 1], ["reduce", 3, 3, 2],
      ["reduce0", undefined, 1, 0],
    ],
    6,
    undefined,
  ]);
});

test("iterator helpers: early finishes close the underlying iterator once; exhaustion does not", async (t) => {
  const result = await probed(`
    const tally = (work) => { log.length = 0; const value = work(probe([1, 2, 3])); return [value, count("next"), count("return")]; };
    return [
      tally((it) => it.some((x) => x === 2)),
      tally((it) => it.some((x) => x > 5)),
      tally((it) => it.every((x) => x < 2)),
      tally((it) => it.every((x) => x < 5)),
      tally((it) => it.find((x) => x === 2)),
      tally((it) => it.find((x) => x > 5)),
      tally((it) => it.take(2).toArray()),
      tally((it) => it.take(3).toArray()),
      tally((it) => it.take(5).toArray()),
      tally((it) => it.drop(1).toArray()),
      tally((it) => it.flatMap((x) => [x]).take(1).toArray()),
      tally((it) => it.toArray()),
    ];
  `);
  t.deepEqual(result, [
    [true, 2, 1], [false, 4, 0],
    [false, 2, 1], [true, 4, 0],
    [2, 2, 1], [undefined, 4, 0],
    [[1, 2], 2, 1], [[1, 2, 3], 3, 1], [[1, 2, 3], 4, 0],
    [[2, 3], 4, 0],
    [[1], 1, 1],
    [[1, 2, 3], 4, 0],
  ]);
});

test("iterator helpers: a throwing callback closes the iterator and its error wins; a throwing next does not close", async (t) => {
  const result = await probed(`
    const boom = () => { throw new SyntaxError("boom"); };
    const tally = (work, returned) => { log.length = 0; const name = errorName(() => work(probe([1, 2], returned))); return [name, count("return")]; };
    const brokenReturn = probe([1]);
    brokenReturn.return = () => { throw new RangeError("return failed"); };
    const failing = { next() { log.push("next"); throw new EvalError("next failed"); }, return() { log.push("return"); return {}; } };
    const helper = Iterator.prototype.map.call(failing, (x) => x);
    log.length = 0;
    const first = errorName(() => helper.next());
    const afterFailure = [helper.next(), count("next"), count("return")];
    return [
      ["map", "filter", "flatMap", "forEach", "some", "every", "find"].map((name) => tally((it) => { const out = it[name](boom); if (out && out.next) out.next(); })),
      tally((it) => it.reduce(boom, 0)),
      tally((it) => it.map(boom).next(), 1),
      errorName(() => brokenReturn.forEach(boom)),
      errorName(() => [1].values().flatMap(() => { throw new URIError("inner"); }).next()),
      [first, ...afterFailure],
    ];
  `);
  t.deepEqual(result, [
    Array.from({ length: 7 }, () => ["SyntaxError", 1]),
    ["SyntaxError", 1],
    ["SyntaxError", 1],
    "SyntaxError",
    "URIError",
    ["EvalError", { value: undefined, done: true }, 1, 0],
  ]);
});

test("iterator helpers: closing with a normal completion checks the return() result and passes on its errors", async (t) => {
  const result = await probed(`
    const throwing = probe([1, 2]);
    throwing.return = () => { throw new RangeError("return failed"); };
    const getterThrows = Object.create(Iterator.prototype, { next: { value: () => ({ value: 1, done: false }) }, return: { get() { throw new EvalError("getter"); } } });
    return [
      errorName(() => probe([1, 2], 1).some(() => true)),
      errorName(() => probe([1, 2], null).take(0).next()),
      errorName(() => throwing.find(() => true)),
      errorName(() => getterThrows.every(() => false)),
      errorName(() => Object.create(Iterator.prototype, { next: { value: () => ({ value: 1, done: false }) }, return: { value: 5 } }).some(() => true)),
      Object.create(Iterator.prototype, { next: { value: () => ({ value: 7, done: false }) } }).find(() => true),
      errorName(() => Iterator.prototype.toArray.call({ next: () => 1 })),
      errorName(() => Iterator.prototype.toArray.call({ next: 1 })),
    ];
  `);
  t.deepEqual(result, ["TypeError", "TypeError", "RangeError", "EvalError", "TypeError", 7, "TypeError", "TypeError"]);
});

test("iterator helpers: a non-object receiver and a non-callable callback are TypeErrors; the callback check closes the receiver before reading next", async (t) => {
  const result = await probed(`
    const methods = ["map", "filter", "flatMap", "reduce", "forEach", "some", "every", "find"];
    const receivers = methods.map((name) => [1, "s", undefined, null].map((self) => errorName(() => Iterator.prototype[name].call(self, () => true))));
    const callbacks = methods.map((name) => {
      log.length = 0;
      const it = probe([1]);
      return [errorName(() => it[name]({})), count("return"), count("get next")];
    });
    const nonObjects = ["take", "drop", "toArray"].map((name) => errorName(() => Iterator.prototype[name].call(1, 1)));
    return [receivers, callbacks, nonObjects];
  `);
  const methods = 8;
  t.deepEqual(result, [
    Array.from({ length: methods }, () => ["TypeError", "TypeError", "TypeError", "TypeError"]),
    Array.from({ length: methods }, () => ["TypeError", 1, 0]),
    ["TypeError", "TypeError", "TypeError"],
  ]);
});

test("take and drop: the limit goes through ToNumber then ToIntegerOrInfinity; NaN and negatives are RangeErrors that close the receiver", async (t) => {
  const result = await probed(`
    const outcome = (name, limit) => {
      log.length = 0;
      const it = probe([1, 2, 3, 4]);
      try { return [it[name](limit).toArray(), count("return"), count("get next")]; } catch (error) { return [error.name, count("return"), count("get next")]; }
    };
    const limits = [2.9, "1", -0.5, Infinity, NaN, -1, undefined, 10n, { valueOf() { throw new EvalError("valueOf"); } }, -Infinity];
    return ["take", "drop"].map((name) => limits.map((limit) => outcome(name, limit)));
  `);
  t.deepEqual(result, [
    [
      [[1, 2], 1, 1], [[1], 1, 1], [[], 1, 1], [[1, 2, 3, 4], 0, 1],
      ["RangeError", 1, 0], ["RangeError", 1, 0], ["RangeError", 1, 0], ["TypeError", 1, 0], ["EvalError", 1, 0], ["RangeError", 1, 0],
    ],
    [
      [[3, 4], 0, 1], [[2, 3, 4], 0, 1], [[1, 2, 3, 4], 0, 1], [[], 0, 1],
      ["RangeError", 1, 0], ["RangeError", 1, 0], ["RangeError", 1, 0], ["TypeError", 1, 0], ["EvalError", 1, 0], ["RangeError", 1, 0],
    ],
  ]);
});

test("helper return(): closes the underlying iterator before the first next() and at a yield, once; a finished helper closes nothing", async (t) => {
  const result = await probed(`
    const before = probe([1, 2]).map((x) => x);
    const beforeResult = before.return();
    const beforeCounts = [count("return"), count("next"), before.next(), count("next")];
    log.length = 0;
    const atYield = probe([1, 2]).filter(() => true);
    atYield.next();
    const yieldResult = atYield.return();
    atYield.return();
    const yieldCounts = [count("return"), atYield.next(), count("next")];
    log.length = 0;
    const finished = probe([1]).take(5);
    finished.toArray();
    finished.return();
    const noReturn = [1, 2].values().map((x) => x);
    noReturn.next();
    const failing = probe([1, 2], 3).map((x) => x);
    failing.next();
    return [beforeResult, beforeCounts, yieldResult, yieldCounts, count("return"), noReturn.return(), errorName(() => failing.return()), failing.next()];
  `);
  const done = { value: undefined, done: true };
  t.deepEqual(result, [done, [1, 0, done, 0], done, [1, done, 1], 0, done, "TypeError", done]);
});

test("helpers: next() or return() while the helper runs is a TypeError; next/return need a real helper", async (t) => {
  const result = await run(`(() => {
    const errorName = (work) => { try { work(); return "none"; } catch (error) { return error.name; } };
    let helper;
    helper = [1, 2].values().map((x) => [x, errorName(() => helper.next()), errorName(() => helper.return())]);
    const values = helper.toArray();
    const underlying = { next: () => ({ value: 1, done: false }), return: () => { inner.push(errorName(() => closing.next())); return {}; } };
    const inner = [];
    let closing = Iterator.prototype.map.call(underlying, (x) => x);
    closing.return();
    closing = Iterator.prototype.map.call(underlying, (x) => x);
    closing.next();
    closing.return();
    const proto = Object.getPrototypeOf(helper);
    const wrapperProto = Object.getPrototypeOf(Iterator.from({ next() {} }));
    const fakes = [{}, (function* () {})(), Iterator.from({ next() {} }), 1];
    return [values, inner, fakes.map((self) => [errorName(() => proto.next.call(self)), errorName(() => proto.return.call(self))]), errorName(() => wrapperProto.next.call(helper))];
  })()`);
  t.deepEqual(result, [
    [[1, "TypeError", "TypeError"], [2, "TypeError", "TypeError"]],
    ["none", "TypeError"],
    Array.from({ length: 4 }, () => ["TypeError", "TypeError"]),
    "TypeError",
  ]);
});

test("flatMap: flattens iterables and iterators, rejects strings, and closes the inner iterator before the outer one", async (t) => {
  const result = await probed(`
    const iteratorOnly = { i: 0, next() { return this.i < 2 ? { value: "it" + this.i++, done: false } : { value: undefined, done: true }; } };
    const flattened = [[1, 2], new Set([3]), new String("ab"), iteratorOnly, []].values().flatMap((x) => x).toArray();
    const rejections = ["ab", 1, { [Symbol.iterator]: () => 1 }, { [Symbol.iterator]: 1 }].map((mapped) => {
      log.length = 0;
      return [errorName(() => probe([1]).flatMap(() => mapped).next()), count("return")];
    });
    log.length = 0;
    const nested = probe([1, 2], {}, "outer ").flatMap(() => probe(["a", "b"], {}, "inner "));
    nested.next();
    nested.return();
    const order = log.slice();
    log.length = 0;
    const innerFails = probe([1], {}, "outer ").flatMap(() => { const it = probe(["a"], {}, "inner "); it.return = () => { log.push("inner return"); throw new RangeError("inner"); }; return it; });
    innerFails.next();
    const failure = [errorName(() => innerFails.return()), log.slice(1)];
    log.length = 0;
    const innerNextFails = probe([1], {}, "outer ").flatMap(() => ({ next() { throw new EvalError("inner next"); }, return() { log.push("inner return"); return {}; } }));
    const nextFailure = [errorName(() => innerNextFails.next()), log.slice(1)];
    return [flattened, rejections, order, failure, nextFailure];
  `);
  t.deepEqual(result, [
    [1, 2, 3, "a", "b", "it0", "it1"],
    [["TypeError", 1], ["TypeError", 1], ["TypeError", 1], ["TypeError", 1]],
    ["outer get next", "outer next", "inner get next", "inner next", "inner return", "outer return"],
    ["RangeError", ["outer next", "inner get next", "inner next", "inner return", "outer return"]],
    ["EvalError", ["outer next", "outer return"]],
  ]);
});

test("Iterator.from: strings and Iterator.prototype heirs as they are, other iterators wrapped with next and return forwarded", async (t) => {
  const result = await probed(`
    const arrayIterator = [1].values();
    const plain = { i: 0, next() { return { value: this.i++, done: this.i > 2 }; }, return() { log.push("return"); return 42; } };
    const wrapped = Iterator.from(plain);
    const wrappedProto = Object.getPrototypeOf(wrapped);
    const values = [wrapped.next(), wrapped.next(), wrapped.next()];
    const bare = Iterator.from({ next: () => ({ value: 1, done: false }) });
    let nextReads = 0;
    const counted = Iterator.from({ get next() { nextReads++; return () => ({ value: nextReads, done: false }); } });
    counted.next();
    counted.next();
    const proxied = new Proxy(Object.create(Iterator.prototype), { getPrototypeOf(target) { log.push("trap"); return Reflect.getPrototypeOf(target); } });
    const lateNext = Iterator.from({ next: 5 });
    return [
      [Iterator.from(arrayIterator) === arrayIterator, Iterator.from("ab").toArray(), Iterator.from("ab").next === "x"[Symbol.iterator]().next, Iterator.from([1, 2]).toArray()],
      [wrapped !== plain, Object.getPrototypeOf(wrappedProto) === Iterator.prototype, values, wrapped.return(), log.slice(), Iterator.from({ next: () => ({ value: 3, done: false }) }).map((x) => x * 2).next().value],
      [bare.return(), nextReads, Iterator.from(proxied) === proxied, log.length, errorName(() => lateNext.next())],
      [5, null, undefined, Symbol(), { [Symbol.iterator]: () => 1 }, { [Symbol.iterator]: 1 }].map((value) => errorName(() => Iterator.from(value))),
    ];
  `);
  t.deepEqual(result, [
    [true, ["a", "b"], true, [1, 2]],
    [true, true, [{ value: 0, done: false }, { value: 1, done: false }, { value: 2, done: true }], 42, ["return"], 6],
    [{ value: undefined, done: true }, 1, true, 2, "TypeError"],
    ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError"],
  ]);
});

test("Iterator.concat: checks every argument at the call, opens each iterable when reached, and return() closes only the open one", async (t) => {
  const result = await probed(`
    const sequence = Iterator.concat([1, 2], new Set([3]), new String("ab"), [].values()).toArray();
    const bad = [[1], 5, "ab", {}, { [Symbol.iterator]: 1 }, null].map((arg) => errorName(() => Iterator.concat([1], arg)));
    let opened = 0;
    let reads = 0;
    const lazy = { get [Symbol.iterator]() { reads++; return () => { opened++; return probe(["x"], {}, "lazy "); }; } };
    const concat = Iterator.concat(probe([1], {}, "first "), lazy);
    const atCall = [reads, opened];
    const first = concat.next();
    const afterFirst = [reads, opened];
    const second = concat.next();
    concat.return();
    const closing = log.slice();
    const unopened = Iterator.concat(lazy);
    const before = [unopened.return(), opened];
    return [sequence, bad, atCall, first, afterFirst, second, closing, before, Iterator.concat().next()];
  `);
  t.deepEqual(result, [
    [1, 2, 3, "a", "b"],
    ["none", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError"],
    [1, 0],
    { value: 1, done: false },
    [1, 0],
    { value: "x", done: false },
    ["first get next", "first next", "first next", "lazy get next", "lazy next", "lazy return"],
    [{ value: undefined, done: true }, 1],
    { value: undefined, done: true },
  ]);
});

test("reduce and toArray: an empty iterator without an initial value is a TypeError; toArray's result is a plain array", async (t) => {
  const result = await run(`(() => {
    const errorName = (work) => { try { work(); return "none"; } catch (error) { return error.name; } };
    const array = [1, 2].values().toArray();
    return [
      errorName(() => [].values().reduce((a, b) => a + b)),
      [].values().reduce((a, b) => a + b, "init"),
      [Array.isArray(array), Object.getPrototypeOf(array) === Array.prototype, array.length, array.map((x) => x + 1)],
      [].values().forEach(() => 1),
    ];
  })()`);
  t.deepEqual(result, ["TypeError", "init", [true, true, 2, [2, 3]], undefined]);
});

test("iterator helpers: tenant patches of Reflect, Function.prototype, Array.prototype and the error globals change nothing", async (t) => {
  const result = await run(`(() => {
    // The helpers capture their intrinsics when their lazy module loads, on the first read of one of them.
    void Iterator;
    const saved = { apply: Reflect.apply, call: Function.prototype.call, fnApply: Function.prototype.apply, push: Array.prototype.push, TypeError: globalThis.TypeError, RangeError: globalThis.RangeError, trunc: Math.trunc };
    // Filled in place: a store past the end would meet the Array.prototype[0] setter below.
    const outcome = [null, null];
    try {
      Reflect.apply = () => "patched";
      Function.prototype.call = Function.prototype.apply = () => "patched";
      Array.prototype.push = () => { throw new Error("push"); };
      Math.trunc = () => 99;
      Object.defineProperty(Array.prototype, "0", { set() { throw new Error("setter"); }, configurable: true });
      Object.defineProperty(Object.prototype, "get", { value: () => 1, configurable: true, writable: true });
      globalThis.TypeError = function FakeTypeError() {};
      globalThis.RangeError = function FakeRangeError() {};
      const child = Object.create(Iterator.prototype);
      child.constructor = "own";
      let typeError, rangeError;
      try { [].values().map(1); } catch (error) { typeError = error; }
      try { [].values().take(-1); } catch (error) { rangeError = error; }
      outcome[0] = [[1, 2, 3].values().map((x) => x * 2).toArray(), [1, 2, 3].values().take(2.5).toArray(), Iterator.concat([1], [2]).toArray()];
      outcome[1] = [typeError instanceof saved.TypeError, rangeError instanceof saved.RangeError, Object.getOwnPropertyDescriptor(child, "constructor").value];
    } finally {
      delete Array.prototype[0];
      delete Object.prototype.get;
      Object.assign(globalThis, { TypeError: saved.TypeError, RangeError: saved.RangeError });
      Math.trunc = saved.trunc;
      Array.prototype.push = saved.push;
      Function.prototype.call = saved.call;
      Function.prototype.apply = saved.fnApply;
      Reflect.apply = saved.apply;
    }
    return outcome;
  })()`);
  t.deepEqual(result, [
    [[2, 4, 6], [1, 2], [1, 2]],
    [true, true, "own"],
  ]);
});

/** Boots the prelude in a bare isolate (stub host functions, the real lazy modules) after `setup`; returns what `probe` evaluates to. */
async function bootBare(setup: string, probe: string): Promise<unknown> {
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  try {
    const context = await isolate.createContext();
    const loadModule = new ivm.Callback((name: string) => lazyModuleSource(name));
    await context.evalClosure(`${setup}; globalThis.${HOST_GLOBAL} = { ${HOST_FUNCTION_NAMES.map((name) => `${name}() {}`).join(", ")}, loadModule: $0 };`, [loadModule]);
    const script = await isolate.compileScript(preludeScript(), { filename: "edgehost:prelude" });
    (await script.run(context, { reference: true })).release();
    script.release();
    return await context.eval(probe, { copy: true });
  } finally {
    isolate.dispose();
  }
}

test("installIteratorHelpers: where V8 has Iterator and the helpers, the prelude changes none of them", async (t) => {
  const native = `
    const proto = Object.getPrototypeOf(Object.getPrototypeOf([].values()));
    const define = (target, key, value) => Object.defineProperty(target, key, { value, writable: true, configurable: true });
    define(globalThis, "Iterator", function NativeIterator() {});
    for (const name of ["map", "filter", "take", "drop", "flatMap", "reduce", "toArray", "forEach", "some", "every", "find", "constructor", Symbol.toStringTag]) define(proto, name, "native");
  `;
  const probe = `(() => {
    const proto = Object.getPrototypeOf(Object.getPrototypeOf([].values()));
    // Loads the lazy module (es-builtins-lazy.ts), which installs all of its built-ins.
    void Object.groupBy;
    const show = (value) => (typeof value === "function" ? "function" : value);
    return [Iterator.name, typeof Iterator.from, show(proto.map), show(proto.find), show(proto.constructor), proto[Symbol.toStringTag], typeof Object.getOwnPropertyDescriptor(proto, "map").get];
  })()`;
  t.deepEqual(await bootBare(native, probe), ["NativeIterator", "undefined", "native", "native", "native", "native", "undefined"]);
  t.deepEqual(await bootBare("", probe), ["Iterator", "function", "function", "function", "function", "Iterator", "undefined"]);
});

test("installIteratorHelpers: an Iterator global the tenant assigned before the first read stays; the helpers still arrive", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(() => {
      globalThis.Iterator = "tenant";
      return [Iterator, [1, 2].values().map((x) => x + 1).toArray(), typeof Object.getPrototypeOf(Object.getPrototypeOf([].values())).constructor.from];
    })()`);
    t.deepEqual(result, ["tenant", [2, 3], "function"]);
  });
});
