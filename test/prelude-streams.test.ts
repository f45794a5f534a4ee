import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("streams: the globals exist before first use, load on first read and support instanceof and subclassing", async (t) => {
  const result = await run(`(() => {
    const before = typeof Object.getOwnPropertyDescriptor(globalThis, "ReadableStream").get;
    const names = ["ReadableStream", "WritableStream", "TransformStream", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
      "ReadableStreamDefaultReader", "ReadableStreamBYOBReader", "WritableStreamDefaultWriter", "TextEncoderStream", "TextDecoderStream",
      "CompressionStream", "DecompressionStream"];
    const types = names.map((name) => [name, typeof globalThis[name], globalThis[name].name]);
    const after = Object.getOwnPropertyDescriptor(globalThis, "ReadableStream");
    class Upper extends TransformStream {
      constructor() { super({ transform(chunk, c) { c.enqueue(String(chunk).toUpperCase()); } }); }
    }
    const upper = new Upper();
    return { before, types, settled: [typeof after.value, after.writable, after.enumerable, after.configurable],
      isTransform: upper instanceof TransformStream, readable: upper.readable instanceof ReadableStream,
      tag: Object.prototype.toString.call(new ReadableStream()) };
  })()`);
  t.like(result, { before: "function", settled: ["function", true, false, true], isTransform: true, readable: true, tag: "[object ReadableStream]" });
  const types = (result as { types: Array<[string, string, string]> }).types;
  t.deepEqual(types.filter(([name, type, fnName]) => type !== "function" || fnName !== name), []);
});

test("streams: default reader, async iteration and ReadableStream.from", async (t) => {
  const result = await run(`(async () => {
    const rs = new ReadableStream({ start(c) { c.enqueue("a"); c.enqueue("b"); c.close(); } });
    const reader = rs.getReader();
    const reads = [await reader.read(), await reader.read(), await reader.read()];
    const iterated = [];
    for await (const chunk of ReadableStream.from((function* () { yield 1; yield 2; yield 3; })())) iterated.push(chunk);
    const fromArray = [];
    for await (const chunk of ReadableStream.from(["x", "y"])) fromArray.push(chunk);
    return { reads, iterated, fromArray, locked: rs.locked };
  })()`);
  t.deepEqual(result, {
    reads: [{ value: "a", done: false }, { value: "b", done: false }, { value: undefined, done: true }],
    iterated: [1, 2, 3],
    fromArray: ["x", "y"],
    locked: true,
  });
});

test("streams: tee gives both branches every chunk", async (t) => {
  const result = await run(`(async () => {
    const [a, b] = ReadableStream.from([1, 2, 3]).tee();
    const read = async (s) => { const out = []; for await (const c of s) out.push(c); return out; };
    return await Promise.all([read(a), read(b)]);
  })()`);
  t.deepEqual(result, [[1, 2, 3], [1, 2, 3]]);
});

test("streams: pipeThrough a TransformStream and pipeTo a WritableStream", async (t) => {
  const result = await run(`(async () => {
    const written = [];
    const double = new TransformStream({ transform(chunk, c) { c.enqueue(chunk * 2); }, flush(c) { c.enqueue(-1); } });
    await ReadableStream.from([1, 2, 3]).pipeThrough(double).pipeTo(new WritableStream({ write(chunk) { written.push(chunk); } }));
    return written;
  })()`);
  t.deepEqual(result, [2, 4, 6, -1]);
});

test("streams: BYOB reader fills the caller's buffer from a byte stream", async (t) => {
  const result = await run(`(async () => {
    const rs = new ReadableStream({ type: "bytes", start(c) { c.enqueue(new Uint8Array([1, 2, 3, 4, 5])); c.close(); } });
    const reader = rs.getReader({ mode: "byob" });
    const first = await reader.read(new Uint8Array(2));
    const second = await reader.read(new Uint8Array(8));
    const third = await reader.read(new Uint8Array(8));
    return [reader instanceof ReadableStreamBYOBReader, [...first.value], first.done, [...second.value], second.done, third.done];
  })()`);
  t.deepEqual(result, [true, [1, 2], false, [3, 4, 5], false, true]);
});

test("streams: backpressure shows in desiredSize and writer.ready", async (t) => {
  const result = await run(`(async () => {
    let controller;
    const rs = new ReadableStream({ start(c) { controller = c; } }, new CountQueuingStrategy({ highWaterMark: 2 }));
    const sizes = [controller.desiredSize];
    controller.enqueue("a"); sizes.push(controller.desiredSize);
    controller.enqueue("b"); sizes.push(controller.desiredSize);
    controller.enqueue("c"); sizes.push(controller.desiredSize);
    await rs.getReader().read(); sizes.push(controller.desiredSize);
    const bytes = new ByteLengthQueuingStrategy({ highWaterMark: 10 });
    const ws = new WritableStream({ write() { return new Promise(() => {}); } }, bytes);
    const writer = ws.getWriter();
    writer.write(new Uint8Array(6));
    writer.write(new Uint8Array(6));
    return { sizes, writerDesired: writer.desiredSize, strategy: [bytes.highWaterMark, bytes.size(new Uint8Array(7))] };
  })()`);
  t.deepEqual(result, { sizes: [2, 1, 0, -1, 0], writerDesired: -2, strategy: [10, 7] });
});

test("streams: TextEncoderStream joins surrogate pairs split across chunks", async (t) => {
  const result = await run(`(async () => {
    const bytes = [];
    const ts = new TextEncoderStream();
    const done = ReadableStream.from(["a\\uD83D", "\\uDE00b", "\\uD83D"]).pipeThrough(ts).pipeTo(new WritableStream({ write(c) { bytes.push(...c); } }));
    await done;
    return [ts.encoding, bytes];
  })()`);
  t.deepEqual(result, ["utf-8", [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x62, 0xef, 0xbf, 0xbd]]);
});

test("streams: TextDecoderStream decodes multi-byte characters split across chunks", async (t) => {
  const result = await run(`(async () => {
    const euro = [0xe2, 0x82, 0xac];
    const chunks = [new Uint8Array([0xef, 0xbb, 0xbf, 0x41, euro[0]]), new Uint8Array([euro[1]]), new Uint8Array([euro[2], 0xf0, 0x9f]), new Uint8Array([0x98, 0x80])];
    const out = [];
    for await (const text of ReadableStream.from(chunks).pipeThrough(new TextDecoderStream())) out.push(text);
    const fatal = new TextDecoderStream("utf-8", { fatal: true });
    let fatalError = "none";
    try { for await (const _ of ReadableStream.from([new Uint8Array([0xff])]).pipeThrough(fatal)) {} } catch (error) { fatalError = error.name; }
    let truncated = "none";
    try { for await (const _ of ReadableStream.from([new Uint8Array([0xe2, 0x82])]).pipeThrough(new TextDecoderStream("utf8", { fatal: true }))) {} } catch (error) { truncated = error.name; }
    return { joined: out.join(""), fatal: fatal.fatal, fatalError, truncated };
  })()`);
  t.deepEqual(result, { joined: "A€😀", fatal: true, fatalError: "TypeError", truncated: "TypeError" });
});
