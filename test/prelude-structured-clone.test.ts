import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("structuredClone: boxed primitives, RegExp without lastIndex, Map and Set with object keys", async (t) => {
  const result = await run(`(() => {
    const re = /a/g; re.lastIndex = 3;
    const key = {};
    const copy = structuredClone({ b: Object(false), n: Object(-0), s: Object("str"), big: Object(7n), re, map: new Map([[key, key]]), set: new Set([key, 1]) });
    const [[mapKey, mapValue]] = copy.map;
    return [typeof copy.b, copy.b.valueOf(), Object.is(copy.n.valueOf(), -0), copy.s.valueOf(), copy.big.valueOf() === 7n,
      copy.re.lastIndex, copy.re.source, copy.re.flags, mapKey === mapValue, copy.set.has(mapKey), copy.set.size];
  })()`);
  t.deepEqual(result, ["object", false, true, "str", true, 0, "a", "g", true, true, 2]);
});

test("structuredClone: types are told by internal slots, not prototypes", async (t) => {
  const result = await run(`(() => {
    const fakeDate = Object.create(Date.prototype);
    fakeDate.x = 1;
    const hidden = new Map([[1, 2]]);
    Object.setPrototypeOf(hidden, null);
    const copy = structuredClone({ fakeDate, hidden, arr: Object.assign([1, , 3], { extra: "e" }) });
    return [copy.fakeDate instanceof Date, copy.fakeDate.x, copy.hidden instanceof Map, copy.hidden.get(1), copy.arr.length, 1 in copy.arr, copy.arr.extra];
  })()`);
  t.deepEqual(result, [false, 1, true, 2, 3, false, "e"]);
});

test("structuredClone: Error names per spec, own message only, stack and cause kept", async (t) => {
  const result = await run(`(() => {
    const type = new TypeError("t", { cause: { deep: [1] } });
    const copy = structuredClone(type);
    class MyError extends Error { constructor() { super("mine"); this.name = "MyError"; } }
    const mine = structuredClone(new MyError());
    const noMessage = structuredClone(new RangeError());
    const inherited = Object.create(new Error("proto message"));
    return [copy instanceof TypeError, copy.name, copy.message, copy.stack === type.stack, copy.cause.deep[0], copy.cause !== type.cause,
      Object.getPrototypeOf(mine) === Error.prototype, mine.name, mine.message, Object.prototype.hasOwnProperty.call(noMessage, "message"),
      structuredClone(inherited) instanceof Error, structuredClone(inherited).message];
  })()`);
    // An object that only inherits from an Error has no [[ErrorData]]: it clones as a plain object.
  t.deepEqual(result, [true, "TypeError", "t", true, 1, true, true, "Error", "mine", false, false, undefined]);
});

test("structuredClone: Blob and File keep bytes, type, name and lastModified", async (t) => {
  const result = await run(`(async () => {
    const file = new File(["abc"], "a.txt", { type: "text/plain", lastModified: 42 });
    const blob = new Blob([new Uint8Array([1, 2])], { type: "x/y" });
    const copy = structuredClone({ file, blob, again: file });
    return [copy.file instanceof File, copy.file !== file, copy.file.name, copy.file.lastModified, copy.file.type, await copy.file.text(),
      copy.blob instanceof Blob && !(copy.blob instanceof File), copy.blob.type, [...await copy.blob.bytes()], copy.again === copy.file];
  })()`);
  t.deepEqual(result, [true, true, "a.txt", 42, "text/plain", "abc", true, "x/y", [1, 2], true]);
});

test("structuredClone: transfer detaches the source and the clone keeps the bytes and views", async (t) => {
  const result = await run(`(() => {
    const buffer = new ArrayBuffer(4);
    const view = new Uint8Array(buffer, 1, 2);
    view.set([7, 8]);
    const copy = structuredClone({ buffer, view }, { transfer: [buffer] });
    return [buffer.byteLength, buffer.detached, view.length, copy.buffer.byteLength, copy.view.buffer === copy.buffer, [...copy.view], [...new Uint8Array(copy.buffer)]];
  })()`);
  t.deepEqual(result, [0, true, 0, 4, true, [7, 8], [0, 7, 8, 0]]);
});

test("structuredClone: bad transfer lists and detached buffers throw DataCloneError", async (t) => {
  const result = await run(`(() => {
    const buffer = new ArrayBuffer(2);
    const detached = new ArrayBuffer(2);
    const onDetached = new Uint8Array(detached);
    structuredClone(undefined, { transfer: [detached] });
    const attempts = [
      () => structuredClone(1, { transfer: [buffer, buffer] }),
      () => structuredClone(1, { transfer: [new Uint8Array(2)] }),
      () => structuredClone(1, { transfer: [detached] }),
      () => structuredClone(detached),
      () => structuredClone(onDetached),
    ];
    const names = attempts.map((attempt) => { try { attempt(); return "cloned"; } catch (e) { return e.name; } });
    return [names, buffer.byteLength];
  })()`);
  t.deepEqual(result, [["DataCloneError", "DataCloneError", "DataCloneError", "DataCloneError", "DataCloneError"], 2]);
});

test("structuredClone: WeakMap, WeakSet, WeakRef, Symbol wrappers and nested functions throw DataCloneError", async (t) => {
  const result = await run(`(() => {
    const values = [new WeakMap(), new WeakSet(), new WeakRef({}), Object(Symbol("s")), { deep: [() => 1] }, new FormData(), new AbortController().signal];
    return values.map((value) => { try { structuredClone(value); return "cloned"; } catch (e) { return e instanceof DOMException && e.name; } });
  })()`);
  t.deepEqual(result, Array(7).fill("DataCloneError"));
});

test("structuredClone: resizable ArrayBuffers stay resizable; DataView offsets kept", async (t) => {
  const result = await run(`(() => {
    const buffer = new ArrayBuffer(4, { maxByteLength: 16 });
    const view = new DataView(buffer, 1, 2);
    view.setUint8(0, 5);
    const copy = structuredClone(view);
    return [copy.buffer.resizable, copy.buffer.maxByteLength, copy.byteOffset, copy.byteLength, copy.getUint8(0)];
  })()`);
  t.deepEqual(result, [true, 16, 1, 2, 5]);
});
