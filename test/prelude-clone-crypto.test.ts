import { createHash } from "node:crypto";
import test from "ava";
import { appWithFetch, sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("structuredClone: deep copies plain data, keeping cycles and shared references", async (t) => {
  const result = await run(`(() => {
    const shared = { n: 1 };
    const source = { a: [1, "two", null, undefined, 3n, -0], shared, again: shared, date: new Date(86400000), re: /x+/gi,
      map: new Map([[shared, "key is shared"]]), set: new Set([1, shared]) };
    source.self = source;
    const copy = structuredClone(source);
    return [copy !== source, copy.self === copy, copy.shared === copy.again, copy.shared !== shared,
      copy.a.length, Object.is(copy.a[5], -0), copy.a[4] === 3n, copy.date instanceof Date && copy.date.getTime(),
      copy.re instanceof RegExp && copy.re.source + "/" + copy.re.flags, copy.map.get(copy.shared), copy.set.has(copy.shared)];
  })()`);
  t.deepEqual(result, [true, true, true, true, 6, true, true, 86400000, "x+/gi", "key is shared", true]);
});

test("structuredClone: copies buffers and views, preserving views that share a buffer", async (t) => {
  const result = await run(`(() => {
    const buffer = new ArrayBuffer(8);
    const bytes = new Uint8Array(buffer);
    bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
    const words = new Uint16Array(buffer, 2, 2);
    const view = new DataView(buffer, 4);
    const copy = structuredClone({ bytes, words, view });
    bytes[2] = 99;
    return [copy.bytes.buffer === copy.words.buffer, copy.bytes.buffer === copy.view.buffer, copy.bytes.buffer !== buffer,
      [...copy.bytes], copy.words.byteOffset, copy.words.length, copy.view.getUint8(0), copy.words.constructor.name];
  })()`);
  t.deepEqual(result, [true, true, true, [1, 2, 3, 4, 5, 6, 7, 8], 2, 2, 5, "Uint16Array"]);
});

test("structuredClone: errors and DOMExceptions keep their type, name, message and stack", async (t) => {
  const result = await run(`(() => {
    const error = new RangeError("out of range");
    const copy = structuredClone(error);
    const custom = structuredClone(Object.assign(new Error("custom"), { name: "MyError" }));
    const abort = structuredClone(new DOMException("stopped", "AbortError"));
    return [copy instanceof RangeError, copy.message, copy.stack === error.stack, copy !== error, custom.constructor.name, custom.message,
      abort instanceof DOMException, abort.name, abort.message, abort.code];
  })()`);
  t.deepEqual(result, [true, "out of range", true, true, "Error", "custom", true, "AbortError", "stopped", 20]);
});

test("structuredClone: functions, symbols and platform objects throw DataCloneError", async (t) => {
  const result = await run(`(() => {
    const attempts = [() => structuredClone(() => 1), () => structuredClone({ f() {} }), () => structuredClone(Symbol("s")),
      () => structuredClone(new Headers()), () => structuredClone(Promise.resolve()), () => structuredClone(new Request("https://example.com/"))];
    return attempts.map((attempt) => {
      try { attempt(); return "cloned"; } catch (error) { return [error instanceof DOMException, error.name, error.code]; }
    });
  })()`);
  t.deepEqual(result, Array(6).fill([true, "DataCloneError", 25]));
});

test("structuredClone: class instances clone as plain objects of their own fields", async (t) => {
  const result = await run(`(() => {
    class Point { constructor() { this.x = 1; } get double() { return 2; } }
    const copy = structuredClone(new Point());
    return [Object.getPrototypeOf(copy) === Object.prototype, copy.x, "double" in copy];
  })()`);
  t.deepEqual(result, [true, 1, false]);
});

for (const algorithm of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
  test(`crypto.subtle.digest: ${algorithm} matches Node's crypto`, async (t) => {
    const input = "The quick brown fox jumps over the lazy dog ✓";
    const expected = createHash(algorithm.replace("-", "").toLowerCase()).update(input, "utf8").digest("hex");
    const result = await run(`(async () => {
      const data = new TextEncoder().encode(${JSON.stringify(input)});
      const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const asString = await crypto.subtle.digest(${JSON.stringify(algorithm.toLowerCase())}, data);
      const asObject = await crypto.subtle.digest({ name: ${JSON.stringify(algorithm)} }, data.buffer);
      return [asString instanceof ArrayBuffer, hex(asString), hex(asObject)];
    })()`);
    t.deepEqual(result, [true, expected, expected]);
  });
}

test("crypto.subtle.digest: unknown algorithms reject with NotSupportedError", async (t) => {
  const result = await run(`crypto.subtle.digest("SHA-3", new Uint8Array(1)).then(() => "resolved", (error) => [error.name, error instanceof DOMException])`);
  t.deepEqual(result, ["NotSupportedError", true]);
});

test("crypto.subtle: other operations with an unknown algorithm reject with NotSupportedError", async (t) => {
  const result = await run(`crypto.subtle.importKey("raw", new Uint8Array(16), "AES-XTS", false, ["encrypt"]).then(() => "resolved", (error) => error.name)`);
  t.is(result, "NotSupportedError");
});

test("crypto.getRandomValues: fills integer arrays in place and returns them", async (t) => {
  const result = await run(`(() => {
    const bytes = new Uint8Array(4096);
    const returned = crypto.getRandomValues(bytes);
    const distinct = new Set(bytes).size;
    const words = crypto.getRandomValues(new BigUint64Array(2));
    return [returned === bytes, distinct > 200, typeof words[0], crypto.getRandomValues(new Uint8Array(0)).length];
  })()`);
  t.deepEqual(result, [true, true, "bigint", 0]);
});

test("crypto.getRandomValues: more than 65536 bytes throws QuotaExceededError, float arrays TypeMismatchError", async (t) => {
  const result = await run(`(() => {
    const attempts = [() => crypto.getRandomValues(new Uint8Array(65537)), () => crypto.getRandomValues(new Uint32Array(16385)),
      () => crypto.getRandomValues(new Float64Array(1)), () => crypto.getRandomValues(new DataView(new ArrayBuffer(1)))];
    const results = attempts.map((attempt) => { try { attempt(); return "filled"; } catch (error) { return error.name; } });
    results.push(crypto.getRandomValues(new Uint8Array(65536)).length);
    return results;
  })()`);
  t.deepEqual(result, ["QuotaExceededError", "QuotaExceededError", "TypeMismatchError", "TypeMismatchError", 65536]);
});

test("crypto.randomUUID: version 4 format and unique", async (t) => {
  const uuids = await run<string[]>(`Array.from({ length: 600 }, () => crypto.randomUUID())`);
  t.is(new Set(uuids).size, 600);
  for (const uuid of uuids) t.regex(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test("crypto: Crypto and SubtleCrypto cannot be constructed by tenants", async (t) => {
  const result = await run(`[() => new Crypto(), () => new SubtleCrypto()].map((make) => { try { make(); return "made"; } catch (error) { return error.name; } })`);
  t.deepEqual(result, ["TypeError", "TypeError"]);
});

/** Makes the %TypedArray%, DataView and ArrayBuffer getters lie about a 5 MB buffer, as hostile code can. */
const PATCH_GETTERS = `
  const big = new ArrayBuffer(5_000_000);
  const proto = Object.getPrototypeOf(Uint8Array.prototype);
  for (const [name, value] of [["buffer", big], ["byteLength", 5_000_000], ["byteOffset", 0]]) {
    Object.defineProperty(proto, name, { get: () => value, configurable: true });
    Object.defineProperty(DataView.prototype, name, { get: () => value, configurable: true });
  }
  Object.defineProperty(ArrayBuffer.prototype, "byteLength", { get: () => 5_000_000, configurable: true });
  ArrayBuffer.prototype.slice = () => big;
  globalThis.Uint8Array = function () { return new Float64Array(big); };
`;

test("crypto.subtle.digest: a 1-byte view with patched getters digests exactly that byte", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(async () => {
      const view = new Uint8Array([0x61]);
      const data = new DataView(new Uint8Array([0x61, 0x62]).buffer, 1, 1);
      ${PATCH_GETTERS}
      const hex = (buffer) => Array.from(new Int8Array(buffer), (b) => (b & 0xff).toString(16).padStart(2, "0")).join("");
      return [hex(await crypto.subtle.digest("SHA-256", view)), hex(await crypto.subtle.digest("SHA-256", data))];
    })()`);
    t.deepEqual(result, [createHash("sha256").update("a").digest("hex"), createHash("sha256").update("b").digest("hex")]);
  });
});

test("crypto.getRandomValues: a byteLength that changes between reads fills the real array and nothing else", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(() => {
      const backing = new Uint8Array(32);
      const array = new Uint8Array(backing.buffer, 8, 16);
      let reads = 0;
      Object.defineProperty(array, "byteLength", { get: () => (reads++ === 0 ? 16 : 100000) });
      crypto.getRandomValues(array);
      const outside = [...backing.subarray(0, 8), ...backing.subarray(24)].every((b) => b === 0);
      return [outside, new Set(backing.subarray(8, 24)).size > 4];
    })()`);
    t.deepEqual(result, [true, true]);
  });
});

test("crypto.subtle.digest: inputs over 64 KiB go through the asynchronous host call, more than four at once are queued", async (t) => {
  await withPrelude({ appSource: appWithFetch("() => new Response('')") }, async (harness) => {
    const result = await harness.evaluate(`(async () => {
      const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const inputs = Array.from({ length: 6 }, (_, i) => new Uint8Array(65 * 1024).fill(i));
      const digests = await Promise.all(inputs.map((data) => crypto.subtle.digest("SHA-256", data)));
      return digests.map(hex);
    })()`);
    t.deepEqual(result, Array.from({ length: 6 }, (_, i) => createHash("sha256").update(new Uint8Array(65 * 1024).fill(i)).digest("hex")));
  });
});
