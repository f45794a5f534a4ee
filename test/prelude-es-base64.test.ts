/**
 * Uint8Array base64 and hex (sandbox/prelude/es-base64-hex.ts) inside a real
 * isolate: the spec's results, errors and observable order, with vectors from
 * RFC 4648 and the proposal's own tests (tc39/proposal-arraybuffer-base64).
 */
import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

/** In-isolate helper: a call's value (bytes as a plain array) or the name of what it threw. */
const OUTCOME = `const outcome = (work) => {
  try { const value = work(); return value instanceof Uint8Array ? Array.from(value) : value; }
  catch (error) { return error.name; }
};`;

/**
 * Code run in the isolate with OUTCOME in scope; its completion value is
 * returned. The methods are placeholders until one of them is first read
 * (sandbox/prelude/es-builtins-lazy.ts loads the module then), so each run
 * reads one first: the tests see the real properties, in any order.
 */
function inIsolate<T>(body: string): Promise<T> {
  return run<T>(`(() => { void Uint8Array.fromBase64; ${OUTCOME}\n${body} })()`);
}

test("Uint8Array base64/hex: spec name and length, non-enumerable writable configurable, not constructors", async (t) => {
  const result = await inIsolate(`
    const describe = (target, name) => {
      const d = Object.getOwnPropertyDescriptor(target, name);
      return [d.value.name, d.value.length, d.enumerable, d.writable, d.configurable, "prototype" in d.value, outcome(() => new d.value(""))];
    };
    return [
      describe(Uint8Array, "fromBase64"), describe(Uint8Array, "fromHex"),
      describe(Uint8Array.prototype, "toBase64"), describe(Uint8Array.prototype, "toHex"),
      describe(Uint8Array.prototype, "setFromBase64"), describe(Uint8Array.prototype, "setFromHex"),
      Object.keys(Uint8Array).length, Object.hasOwn(Object.getPrototypeOf(Uint8Array), "fromBase64"),
    ];
  `);
  t.deepEqual(result, [
    ["fromBase64", 1, false, true, true, false, "TypeError"],
    ["fromHex", 1, false, true, true, false, "TypeError"],
    ["toBase64", 0, false, true, true, false, "TypeError"],
    ["toHex", 0, false, true, true, false, "TypeError"],
    ["setFromBase64", 1, false, true, true, false, "TypeError"],
    ["setFromHex", 1, false, true, true, false, "TypeError"],
    0,
    false,
  ]);
});

test("Uint8Array base64/hex: RFC 4648 vectors encode and decode in every mode", async (t) => {
  const result = await inIsolate(`
    const vectors = [["", ""], ["f", "Zg=="], ["fo", "Zm8="], ["foo", "Zm9v"], ["foob", "Zm9vYg=="], ["fooba", "Zm9vYmE="], ["foobar", "Zm9vYmFy"]];
    return vectors.map(([text, base64]) => {
      const bytes = new TextEncoder().encode(text);
      const decoded = (options) => new TextDecoder().decode(Uint8Array.fromBase64(base64, options));
      return [bytes.toBase64(), bytes.toBase64({ omitPadding: true }), decoded(), decoded({ lastChunkHandling: "strict" }),
        decoded({ lastChunkHandling: "stop-before-partial" }), bytes.toHex()];
    });
  `);
  t.deepEqual(result, [
    ["", "", "", "", "", ""],
    ["Zg==", "Zg", "f", "f", "f", "66"],
    ["Zm8=", "Zm8", "fo", "fo", "fo", "666f"],
    ["Zm9v", "Zm9v", "foo", "foo", "foo", "666f6f"],
    ["Zm9vYg==", "Zm9vYg", "foob", "foob", "foob", "666f6f62"],
    ["Zm9vYmE=", "Zm9vYmE", "fooba", "fooba", "fooba", "666f6f6261"],
    ["Zm9vYmFy", "Zm9vYmFy", "foobar", "foobar", "foobar", "666f6f626172"],
  ]);
});

test("Uint8Array base64/hex: all 256 byte values and lengths 0-10 round-trip in both alphabets, agreeing with btoa", async (t) => {
  const result = await inIsolate(`
    const failures = [];
    const samples = [Uint8Array.from({ length: 256 }, (_, i) => i), Uint8Array.from({ length: 256 }, (_, i) => 255 - i)];
    for (let length = 0; length <= 10; length++) samples.push(Uint8Array.from({ length }, (_, i) => (i * 97 + 251) & 255));
    const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
    for (const bytes of samples) {
      const reference = btoa(String.fromCharCode(...bytes));
      const url = reference.replaceAll("+", "-").replaceAll("/", "_");
      const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      const checks = [
        [bytes.toBase64(), reference],
        [bytes.toBase64({ alphabet: "base64" }), reference],
        [bytes.toBase64({ alphabet: "base64url" }), url],
        [bytes.toBase64({ omitPadding: true }), reference.replace(/=+$/, "")],
        [bytes.toBase64({ alphabet: "base64url", omitPadding: true }), url.replace(/=+$/, "")],
        [bytes.toHex(), hex],
      ];
      for (const [got, want] of checks) if (got !== want) failures.push([bytes.length, got, want]);
      const decodes = [
        Uint8Array.fromBase64(reference), Uint8Array.fromBase64(reference, { lastChunkHandling: "strict" }),
        Uint8Array.fromBase64(url, { alphabet: "base64url" }), Uint8Array.fromBase64(url.replace(/=+$/, ""), { alphabet: "base64url" }),
        Uint8Array.fromHex(hex), Uint8Array.fromHex(hex.toUpperCase()),
      ];
      decodes.forEach((decoded, i) => { if (!same(decoded, bytes)) failures.push([bytes.length, "decode", i]); });
    }
    return [samples.length, failures];
  `);
  t.deepEqual(result, [13, []]);
});

test("Uint8Array.fromBase64: lastChunkHandling on padded, unpadded and partial last chunks", async (t) => {
  const result = await inIsolate(`
    const inputs = ["Zg", "Zh", "Zg==", "Zh==", "Zm8", "Zm9", "Zm9=", "Zg=", "ZXhhZg", "ZXhhZ", "Zm9vYmE", "Zm9vYmE=", "Zm9vYg="];
    return inputs.map((input) => [input, ...["loose", "strict", "stop-before-partial"].map((lastChunkHandling) => outcome(() => Uint8Array.fromBase64(input, { lastChunkHandling })))]);
  `);
  t.deepEqual(result, [
    ["Zg", [0x66], "SyntaxError", []],
    ["Zh", [0x66], "SyntaxError", []],
    ["Zg==", [0x66], [0x66], [0x66]],
    // Nonzero bits after the last byte: only strict rejects them.
    ["Zh==", [0x66], "SyntaxError", [0x66]],
    ["Zm8", [0x66, 0x6f], "SyntaxError", []],
    ["Zm9", [0x66, 0x6f], "SyntaxError", []],
    ["Zm9=", [0x66, 0x6f], "SyntaxError", [0x66, 0x6f]],
    // Two characters and one "=" at the end: a partial chunk, not an error, for stop-before-partial.
    ["Zg=", "SyntaxError", "SyntaxError", []],
    ["ZXhhZg", [101, 120, 97, 102], "SyntaxError", [101, 120, 97]],
    ["ZXhhZ", "SyntaxError", "SyntaxError", [101, 120, 97]],
    ["Zm9vYmE", [102, 111, 111, 98, 97], "SyntaxError", [102, 111, 111]],
    ["Zm9vYmE=", [102, 111, 111, 98, 97], [102, 111, 111, 98, 97], [102, 111, 111, 98, 97]],
    ["Zm9vYg=", "SyntaxError", "SyntaxError", [102, 111, 111]],
  ]);
});

test("Uint8Array.fromBase64: malformed padding and characters outside the alphabet are SyntaxErrors in every mode", async (t) => {
  const result = await inIsolate(`
    const inputs = ["=", "Z", "Z===", "Zm8==", "Zm9v=", "Zg===", "Zg==Zg==", "Zg==&", "Zg=a", "Zm.9v", "Zm9v^", "Z\\u2212==", "Z\\uFF0B==",
      "Zg\\u00A0==", "Zg\\u2009==", "Zg\\u2028==", "Zg\\v==", "Zm9v\\u0000"];
    return inputs.filter((input) => ["loose", "strict", "stop-before-partial"].some((lastChunkHandling) => outcome(() => Uint8Array.fromBase64(input, { lastChunkHandling })) !== "SyntaxError"));
  `);
  // "Z" alone is a partial chunk that stop-before-partial drops rather than rejects.
  t.deepEqual(result, ["Z"]);
});

test("Uint8Array.fromBase64: ASCII whitespace (tab, LF, FF, CR, space) is skipped anywhere, padding included", async (t) => {
  const result = await inIsolate(`
    return [
      outcome(() => Uint8Array.fromBase64(" Z m 9 v\\tYg\\n=\\f=\\r ")),
      outcome(() => Uint8Array.fromBase64("Zm9v\\r\\nYmFy\\r\\n", { lastChunkHandling: "strict" })),
      outcome(() => Uint8Array.fromBase64(" \\n\\t ")),
      outcome(() => Uint8Array.fromBase64("Zg = =", { lastChunkHandling: "strict" })),
      outcome(() => Uint8Array.fromBase64("Zm9vYmE ", { lastChunkHandling: "stop-before-partial" })),
      Uint8Array.fromBase64("Zm 9v\\nYmFy").buffer.byteLength,
    ];
  `);
  t.deepEqual(result, [[102, 111, 111, 98], [102, 111, 111, 98, 97, 114], [], [0x66], [102, 111, 111], 6]);
});

test("Uint8Array.fromBase64: each alphabet rejects the other's two characters", async (t) => {
  const result = await inIsolate(`
    return [
      outcome(() => Uint8Array.fromBase64("x+/y")),
      outcome(() => Uint8Array.fromBase64("x+/y", { alphabet: "base64" })),
      outcome(() => Uint8Array.fromBase64("x+/y", { alphabet: "base64url" })),
      outcome(() => Uint8Array.fromBase64("x-_y", { alphabet: "base64url" })),
      outcome(() => Uint8Array.fromBase64("x-_y")),
      Uint8Array.of(0xfb, 0xff).toBase64(),
      Uint8Array.of(0xfb, 0xff).toBase64({ alphabet: "base64url" }),
    ];
  `);
  t.deepEqual(result, [[0xc7, 0xef, 0xf2], [0xc7, 0xef, 0xf2], "SyntaxError", [0xc7, 0xef, 0xf2], "SyntaxError", "+/8=", "-_8="]);
});

test("Uint8Array base64/hex: wrong argument types and option values are TypeErrors; options are compared, not converted", async (t) => {
  const result = await inIsolate(`
    const bytes = Uint8Array.of(1);
    return [
      outcome(() => Uint8Array.fromBase64(1)), outcome(() => Uint8Array.fromBase64(new String("AA=="))), outcome(() => Uint8Array.fromBase64()),
      outcome(() => Uint8Array.fromHex(12)), outcome(() => bytes.setFromBase64({ toString: () => "AA==" })), outcome(() => bytes.setFromHex(null)),
      outcome(() => Uint8Array.fromBase64("", null)), outcome(() => Uint8Array.fromBase64("", "base64")), outcome(() => bytes.toBase64(true)),
      outcome(() => Uint8Array.fromBase64("", { alphabet: "BASE64" })), outcome(() => Uint8Array.fromBase64("", { alphabet: new String("base64") })),
      outcome(() => Uint8Array.fromBase64("", { alphabet: null })), outcome(() => bytes.toBase64({ alphabet: "base64url " })),
      outcome(() => Uint8Array.fromBase64("", { lastChunkHandling: "Strict" })), outcome(() => bytes.setFromBase64("", { lastChunkHandling: "" })),
      // A function is an object, and its properties are read as options.
      outcome(() => Uint8Array.of(0xfb).toBase64(Object.assign(() => {}, { alphabet: "base64url" }))),
      outcome(() => Uint8Array.fromBase64("AA", { alphabet: undefined, lastChunkHandling: undefined })),
      [1, "", 0, {}, null, NaN, "false"].map((omitPadding) => bytes.toBase64({ omitPadding })),
    ];
  `);
  t.deepEqual(result, [
    "TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError",
    "TypeError", "TypeError", "TypeError",
    "TypeError", "TypeError", "TypeError", "TypeError",
    "TypeError", "TypeError",
    "-w==", [0],
    ["AQ", "AQ==", "AQ==", "AQ", "AQ==", "AQ==", "AQ"],
  ]);
});

test("Uint8Array base64/hex: option getters run in spec order, after the receiver and input checks", async (t) => {
  const result = await inIsolate(`
    const log = [];
    const options = (values) => new Proxy({}, { get(_, key) { log.push(String(key)); return values[key]; } });
    const take = () => log.splice(0);
    const bytes = Uint8Array.of(1, 2);
    const steps = [];
    steps.push([outcome(() => Uint8Array.fromBase64("AQI=", options({ alphabet: "base64", lastChunkHandling: "strict" }))), take()]);
    steps.push([outcome(() => Uint8Array.fromBase64("AQI=", options({ alphabet: "nope" }))), take()]);
    steps.push([outcome(() => Uint8Array.fromBase64(5, options({}))), take()]);
    steps.push([outcome(() => bytes.toBase64(options({ alphabet: "base64url", omitPadding: 1 }))), take()]);
    steps.push([outcome(() => bytes.toBase64(options({ alphabet: 7 }))), take()]);
    steps.push([outcome(() => Uint8Array.prototype.toBase64.call([1], options({}))), take()]);
    steps.push([outcome(() => bytes.setFromBase64(5, options({}))), take()]);
    steps.push([outcome(() => Uint8Array.prototype.setFromBase64.call({}, "", options({}))), take()]);
    steps.push([outcome(() => bytes.setFromBase64("AQ", options({ lastChunkHandling: "stop-before-partial" }))), take()]);
    // Without an options object nothing is read: Object.prototype getters do not run.
    Object.defineProperty(Object.prototype, "alphabet", { get() { log.push("inherited"); return "base64url"; }, configurable: true });
    steps.push([outcome(() => Uint8Array.of(0xfb).toBase64()), outcome(() => Uint8Array.of(0xfb).toBase64({})), take()]);
    delete Object.prototype.alphabet;
    return steps;
  `);
  t.deepEqual(result, [
    [[1, 2], ["alphabet", "lastChunkHandling"]],
    ["TypeError", ["alphabet"]],
    ["TypeError", []],
    ["AQI", ["alphabet", "omitPadding"]],
    ["TypeError", ["alphabet"]],
    ["TypeError", []],
    ["TypeError", []],
    ["TypeError", []],
    [{ read: 0, written: 0 }, ["alphabet", "lastChunkHandling"]],
    ["+w==", "-w==", ["inherited"]],
  ]);
});

test("Uint8Array.prototype.setFromBase64: read and written on exact, larger and too small targets", async (t) => {
  const result = await inIsolate(`
    const into = (length, input, options) => {
      const target = new Uint8Array(length);
      const { read, written, ...rest } = target.setFromBase64(input, options);
      return [read, written, Object.keys(rest).length, Array.from(target)];
    };
    const stop = { lastChunkHandling: "stop-before-partial" };
    return [
      into(6, "Zm9vYmFy"), into(8, "Zm9vYmFy"), into(5, "Zm9vYmFy"), into(5, "Zm9vYmE="), into(5, "Zm9vYmE"),
      into(5, "Zm9vYmE=", stop), into(5, "Zm9vYmE", stop), into(4, "Zm9vYmE="),
      into(8, "Zm9vYmFy          "), into(8, "Zm9vYmE          "), into(8, "Zm9vYmE          ", stop),
      into(3, "Zm9v  YmFy"), into(1, "Zg=="), into(1, "Zm8="), into(2, "Zm8="), into(0, "!!!!"), into(0, "Zg=="),
    ];
  `);
  t.deepEqual(result, [
    [8, 6, 0, [102, 111, 111, 98, 97, 114]],
    [8, 6, 0, [102, 111, 111, 98, 97, 114, 0, 0]],
    [4, 3, 0, [102, 111, 111, 0, 0]],
    [8, 5, 0, [102, 111, 111, 98, 97]],
    [7, 5, 0, [102, 111, 111, 98, 97]],
    [8, 5, 0, [102, 111, 111, 98, 97]],
    [4, 3, 0, [102, 111, 111, 0, 0]],
    [4, 3, 0, [102, 111, 111, 0]],
    [18, 6, 0, [102, 111, 111, 98, 97, 114, 0, 0]],
    [17, 5, 0, [102, 111, 111, 98, 97, 0, 0, 0]],
    [4, 3, 0, [102, 111, 111, 0, 0, 0, 0, 0]],
    // Whitespace after a chunk that filled the target is not read.
    [4, 3, 0, [102, 111, 111]],
    [4, 1, 0, [0x66]],
    [0, 0, 0, [0]],
    [4, 2, 0, [0x66, 0x6f]],
    // Nothing fits, so nothing is looked at: not even invalid input is an error.
    [0, 0, 0, []],
    [0, 0, 0, []],
  ]);
});

test("Uint8Array.prototype.setFrom*: bytes of whole chunks before a SyntaxError are written, then it throws", async (t) => {
  const result = await inIsolate(`
    const attempt = (length, call) => {
      const target = new Uint8Array(length).fill(0xee);
      return [outcome(() => call(target)), Array.from(target)];
    };
    return [
      attempt(6, (u) => u.setFromBase64("Zm9vYm!y")),
      attempt(8, (u) => u.setFromBase64("Zm9vYmFy=", { lastChunkHandling: "strict" })),
      // A full target ends decoding before the stray "=" is reached.
      attempt(6, (u) => u.setFromBase64("Zm9vYmFy=", { lastChunkHandling: "strict" })),
      attempt(6, (u) => u.setFromBase64("Zm9vYh==", { lastChunkHandling: "strict" })),
      attempt(6, (u) => u.setFromBase64("Zm9vYg", { lastChunkHandling: "strict" })),
      attempt(4, (u) => u.setFromHex("deadzzef")),
      attempt(4, (u) => u.setFromHex("deadbee")),
    ];
  `);
  t.deepEqual(result, [
    ["SyntaxError", [102, 111, 111, 0xee, 0xee, 0xee]],
    ["SyntaxError", [102, 111, 111, 98, 97, 114, 0xee, 0xee]],
    [{ read: 8, written: 6 }, [102, 111, 111, 98, 97, 114]],
    ["SyntaxError", [102, 111, 111, 0xee, 0xee, 0xee]],
    ["SyntaxError", [102, 111, 111, 0xee, 0xee, 0xee]],
    ["SyntaxError", [0xde, 0xad, 0xee, 0xee]],
    // An odd length is rejected before anything is decoded.
    ["SyntaxError", [0xee, 0xee, 0xee, 0xee]],
  ]);
});

test("Uint8Array hex: fromHex and setFromHex accept both cases, reject odd lengths and non-hex, and stop at the target's end", async (t) => {
  const result = await inIsolate(`
    const into = (length, input) => { const target = new Uint8Array(length); const r = target.setFromHex(input); return [r.read, r.written, Array.from(target)]; };
    return [
      outcome(() => Uint8Array.fromHex("deadBEEF")), outcome(() => Uint8Array.fromHex("")), outcome(() => Uint8Array.fromHex("abc")),
      outcome(() => Uint8Array.fromHex("0g")), outcome(() => Uint8Array.fromHex(" 00")), outcome(() => Uint8Array.fromHex("\\u0660\\u0661")),
      outcome(() => Uint8Array.fromHex("+1")), outcome(() => Uint8Array.fromHex("0x")),
      into(4, "deadBEEF"), into(6, "deadBEEF"), into(3, "deadBEEF"), into(0, "zz"), into(1, "00zz"),
      Uint8Array.of(0, 9, 10, 15, 16, 160, 255).toHex(),
    ];
  `);
  t.deepEqual(result, [
    [222, 173, 190, 239], [], "SyntaxError",
    "SyntaxError", "SyntaxError", "SyntaxError",
    "SyntaxError", "SyntaxError",
    [8, 4, [222, 173, 190, 239]], [8, 4, [222, 173, 190, 239, 0, 0]], [6, 3, [222, 173, 190]], [0, 0, []], [2, 1, [0]],
    "00090a0f10a0ff",
  ]);
});

test("Uint8Array base64/hex: receivers are checked by internal slot, detached and out-of-bounds arrays are TypeErrors", async (t) => {
  const result = await inIsolate(`
    const { toBase64, toHex, setFromBase64, setFromHex } = Uint8Array.prototype;
    const calls = (receiver) => [
      outcome(() => toBase64.call(receiver)), outcome(() => toHex.call(receiver)),
      outcome(() => setFromBase64.call(receiver, "")), outcome(() => setFromHex.call(receiver, "")),
    ];
    class Bytes extends Uint8Array {}
    const detached = new Uint8Array(4);
    detached.buffer.transfer();
    const resizable = new ArrayBuffer(8, { maxByteLength: 16 });
    const tracking = new Uint8Array(resizable, 4);
    const fixed = new Uint8Array(resizable, 2, 4);
    resizable.resize(3);
    const detachLater = new Uint8Array(3);
    return [
      calls(new Uint16Array(2)), calls(new Int8Array(2)), calls(new Uint8ClampedArray(2)), calls(new DataView(new ArrayBuffer(2))),
      calls(Object.create(Uint8Array.prototype)), calls(new Proxy(new Uint8Array(2), {})), calls([]), calls(undefined),
      calls(new Bytes(0)), calls(new Uint8Array(0)), calls(detached), calls(tracking), calls(fixed),
      outcome(() => detachLater.toBase64({ get alphabet() { detachLater.buffer.transfer(); return "base64"; } })),
      Object.getPrototypeOf(Bytes.fromBase64("AQ==")) === Uint8Array.prototype,
      Object.getPrototypeOf(Bytes.fromHex("01")) === Uint8Array.prototype,
      new Bytes([1, 2]).toHex(),
    ];
  `);
  const brand = ["TypeError", "TypeError", "TypeError", "TypeError"];
  const empty = ["", "", { read: 0, written: 0 }, { read: 0, written: 0 }];
  t.deepEqual(result, [brand, brand, brand, brand, brand, brand, brand, brand, empty, empty, brand, brand, brand, "TypeError", true, true, "0102"]);
});

test("Uint8Array base64/hex: a patched byteLength getter and other tenant-patched built-ins change no result", async (t) => {
  const result = await inIsolate(`
    const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
    const saved = ["byteLength", "length", "byteOffset", "buffer", Symbol.toStringTag].map((key) => [key, Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)]);
    const globals = { SyntaxError, TypeError, Uint8Array, Uint16Array, fromCharCode: String.fromCharCode, charCodeAt: String.prototype.charCodeAt, fill: TypedArrayPrototype.fill };
    const backing = Uint8Array.from({ length: 300 }, (_, i) => i & 255);
    const view = backing.subarray(2, 12);
    const target = new Uint8Array(8);
    try {
      for (const [key] of saved) Object.defineProperty(TypedArrayPrototype, key, { get: () => (key === Symbol.toStringTag ? "Uint8Array" : 1), configurable: true });
      Object.defineProperty(Array.prototype, "0", { set() {}, configurable: true });
      globalThis.SyntaxError = globalThis.TypeError = function Fake() {};
      globalThis.Uint8Array = globalThis.Uint16Array = function Fake() {};
      String.fromCharCode = () => "patched";
      String.prototype.charCodeAt = () => 65;
      TypedArrayPrototype.fill = () => { throw new Error("patched fill"); };
      const caught = (work) => { try { work(); return "no error"; } catch (error) { return [error instanceof globals.SyntaxError, error instanceof globals.TypeError]; } };
      return [
        view.toBase64(), view.toHex(), backing.toBase64().length, globals.Uint8Array.prototype.toHex.call(globals.Uint8Array.fromHex("00ff")),
        Array.from(globals.Uint8Array.fromBase64("AgMEBQ==")), target.setFromBase64("Zm9vYmFyYmF6"), target.setFromHex("0102030405060708090a"),
        Array.from(target), caught(() => globals.Uint8Array.fromBase64("!")), caught(() => globals.Uint8Array.fromHex(1)),
        caught(() => globals.Uint8Array.prototype.toHex.call({})), caught(() => globals.Uint8Array.prototype.toHex.call(new globals.Uint16Array(1))),
      ];
    } finally {
      for (const [key, descriptor] of saved) Object.defineProperty(TypedArrayPrototype, key, descriptor);
      delete Array.prototype[0];
      Object.assign(globalThis, { SyntaxError: globals.SyntaxError, TypeError: globals.TypeError, Uint8Array: globals.Uint8Array, Uint16Array: globals.Uint16Array });
      String.fromCharCode = globals.fromCharCode;
      String.prototype.charCodeAt = globals.charCodeAt;
      TypedArrayPrototype.fill = globals.fill;
    }
  `);
  t.deepEqual(result, [
    "AgMEBQYHCAkKCw==",
    "02030405060708090a0b",
    400,
    "00ff",
    [2, 3, 4, 5],
    { read: 8, written: 6 },
    { read: 16, written: 8 },
    [1, 2, 3, 4, 5, 6, 7, 8],
    [true, false],
    [false, true],
    [false, true],
    [false, true],
  ]);
});

test("Uint8Array base64/hex: a MiB round-trips, wrapped in MIME-style lines, with an exactly sized result buffer", async (t) => {
  const result = await inIsolate(`
    const bytes = new Uint8Array(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 13;
    const base64 = bytes.toBase64();
    const wrapped = base64.match(/.{1,76}/g).join("\\r\\n");
    const same = (other) => other.length === bytes.length && other.buffer.byteLength === bytes.length && other.every((x, i) => x === bytes[i]);
    const hex = bytes.toHex();
    const into = new Uint8Array(bytes.length);
    const written = into.setFromBase64(wrapped);
    return [base64.length, base64.slice(0, 16) === btoa(String.fromCharCode(...bytes.subarray(0, 12))), same(Uint8Array.fromBase64(base64)),
      same(Uint8Array.fromBase64(wrapped)), hex.length, same(Uint8Array.fromHex(hex)), written.read === wrapped.length, written.written, same(into)];
  `);
  t.deepEqual(result, [1398104, true, true, true, 2097152, true, true, 1048576, true]);
});
