import test from "ava";
import type { PreludeHarness} from "./helpers/prelude-harness.js";
import { withPrelude } from "./helpers/prelude-harness.js";

/** Runs `code` (console calls) in a fresh isolate and returns the log lines it produced. */
async function logsOf(code: string): Promise<Array<[string, string]>> {
  return withPrelude({}, async (harness: PreludeHarness) => {
    await harness.evaluate(code);
    return harness.logs.map((line) => [line.level, line.message]);
  });
}

test("console: levels map to the host log levels", async (t) => {
  const lines = await logsOf(`console.log("l"); console.info("i"); console.warn("w"); console.error("e"); console.debug("d")`);
  t.deepEqual(lines, [
    ["log", "l"],
    ["info", "i"],
    ["warn", "w"],
    ["error", "e"],
    ["debug", "d"],
  ]);
});

test("console: strings print raw, other values inspected, joined by spaces", async (t) => {
  const lines = await logsOf(`console.log("text", 1, -0, 2n, true, null, undefined, Symbol("s"), "quoted'inside")`);
  t.deepEqual(lines, [["log", "text 1 -0 2n true null undefined Symbol(s) quoted'inside"]]);
});

test("console: objects, arrays, maps and sets print like Node's inspect", async (t) => {
  const lines = await logsOf(`console.log({ a: 1, "b-c": "x", nested: { deep: { deeper: { deepest: 1 } } }, list: [1, "two"] });
    console.log(new Map([["k", 1]]), new Set([1, 2]), [], {}, Object.create(null));
    console.log(new Uint8Array([1, 2]), new ArrayBuffer(4), new Date(0), /re/g);
    class Point { constructor() { this.x = 1; } }
    console.log(new Point(), function named() {}, () => {}, class Klass {});`);
  t.deepEqual(lines, [
    ["log", "{\n  a: 1,\n  'b-c': 'x',\n  nested: { deep: { deeper: [Object] } },\n  list: [ 1, 'two' ]\n}"],
    ["log", "Map(1) { 'k' => 1 } Set(2) { 1, 2 } [] {} [Object: null prototype] {}"],
    ["log", "Uint8Array(2) [ 1, 2 ] ArrayBuffer { byteLength: 4 } 1970-01-01T00:00:00.000Z /re/g"],
    ["log", "Point { x: 1 } [Function: named] [Function (anonymous)] [class Klass]"],
  ]);
});

test("console: cycles are marked and long objects break over lines", async (t) => {
  const lines = await logsOf(`const o = { name: "loop" }; o.self = o; console.log(o);
    console.log({ alpha: "a".repeat(30), beta: "b".repeat(30), gamma: 3 });`);
  t.deepEqual(lines, [
    ["log", "{ name: 'loop', self: [Circular *1] }"],
    ["log", `{\n  alpha: '${"a".repeat(30)}',\n  beta: '${"b".repeat(30)}',\n  gamma: 3\n}`],
  ]);
});

test("console: errors print with their stack", async (t) => {
  const lines = await logsOf(`console.error(new TypeError("bad thing")); console.log({ error: new Error("inner") })`);
  t.is(lines.length, 2);
  t.is(lines[0]?.[0], "error");
  t.regex(lines[0]?.[1] ?? "", /^TypeError: bad thing\n\s+at .*test\.js/);
  t.deepEqual(lines[1], ["log", "{ error: [Error: inner] }"]);
});

test("console: format specifiers follow util.format", async (t) => {
  const lines = await logsOf(`console.log("%s is %d years, %i%%, %f, %j, %o %O %c|", "Ann", 42.5, 42.9, "1.5", { a: [1] }, [1], { b: 2 }, "color: red", "extra");
    console.log("%s", { toString() { return "custom"; } }, "%s");
    console.log("no args %s");`);
  t.deepEqual(lines, [
    ["log", "Ann is 42.5 years, 42%, 1.5, {\"a\":[1]}, [ 1 ] { b: 2 } | extra"],
    ["log", "custom %s"],
    ["log", "no args %s"],
  ]);
});

test("console: Headers, Request and Response print their visible state", async (t) => {
  const lines = await logsOf(`console.log(new Headers({ "X-A": "1" }));
    console.log(new Request("https://example.com/", { method: "POST" }));
    console.log(Response.name, new Response().constructor.name, URL.name, fetch.name);`);
  t.deepEqual(lines, [
    ["log", "Headers { 'x-a': '1' }"],
    ["log", "Request {\n  method: 'POST',\n  url: 'https://example.com/',\n  headers: Headers {},\n  bodyUsed: false\n}"],
    ["log", "Response Response URL fetch"],
  ]);
});

test("console: assert, count, group and time helpers", async (t) => {
  const lines = await logsOf(`console.assert(true, "hidden"); console.assert(false, "shown %d", 1); console.count(); console.count("x"); console.count();
    console.group("outer"); console.log("inner"); console.groupEnd(); console.log("after"); console.timeEnd("never");`);
  t.deepEqual(lines, [
    ["error", "Assertion failed: shown 1"],
    ["info", "default: 1"],
    ["info", "x: 1"],
    ["info", "default: 2"],
    ["log", "outer"],
    ["log", "  inner"],
    ["log", "after"],
    ["warn", "No such label 'never' for console.timeEnd()"],
  ]);
});

test("console: lines outside a request carry an empty request id", async (t) => {
  await withPrelude({}, async (harness) => {
    await harness.evaluate(`console.log("top level")`);
    t.deepEqual(harness.logs, [{ level: "log", requestId: "", message: "top level" }]);
  });
});
