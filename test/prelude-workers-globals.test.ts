/**
 * performance, scheduler, the Event subclasses, reportError, setImmediate and
 * crypto.subtle.timingSafeEqual inside the prelude (sandbox/prelude/
 * performance.ts, scheduler.ts, event-classes.ts, timers.ts, crypto.ts):
 * the spec behaviours the workerd differential test does not reach.
 */
import test from "ava";
import { sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("performance.now reads the clock captured at load: a patched Date.now changes nothing", async (t) => {
  const result = await run(`(() => {
    const real = Date.now();
    const original = Date.now;
    Date.now = () => 42;
    try {
      const now = performance.now();
      return [now >= real && now - real < 1000, performance.timeOrigin];
    } finally {
      Date.now = original;
    }
  })()`);
  t.deepEqual(result, [true, 0]);
});

test("performance.measure: an unknown mark is a SyntaxError DOMException; start, end and duration together are a TypeError", async (t) => {
  const result = await run(`(() => {
    const outcome = (work) => { try { work(); return "ok"; } catch (error) { return [error.name, error instanceof DOMException]; } };
    performance.mark("a", { startTime: 10 });
    return [
      outcome(() => performance.measure("m", "missing")),
      outcome(() => performance.measure("m", { start: 1, end: 2, duration: 1 })),
      outcome(() => performance.mark("bad", { startTime: -1 })),
      performance.measure("from-origin").startTime,
      performance.measure("to-a", undefined, "a").duration,
      performance.measure("end-duration", { end: 50, duration: 20 }).startTime,
    ];
  })()`);
  t.deepEqual(result, [["SyntaxError", true], ["TypeError", false], ["TypeError", false], 0, 10, 30]);
});

test("performance methods check their receiver; a mark's detail is a structured clone", async (t) => {
  const result = await run(`(() => {
    const detail = { nested: [1, 2] };
    const mark = performance.mark("d", { detail });
    detail.nested.push(3);
    let brand;
    try { performance.now.call({}); brand = "no check"; } catch (error) { brand = error.name; }
    let clone;
    try { performance.mark("f", { detail: () => 1 }); clone = "cloned"; } catch (error) { clone = error.name; }
    return [mark.detail.nested, mark.detail === detail, brand, clone];
  })()`);
  t.deepEqual(result, [[1, 2], false, "TypeError", "DataCloneError"]);
});

test("scheduler.wait: rejects at once for an aborted signal and with the abort reason later; a bad signal is a TypeError", async (t) => {
  const result = await run(`(async () => {
    const reasons = [];
    const aborted = AbortSignal.abort(new Error("already"));
    await scheduler.wait(10, { signal: aborted }).catch((reason) => reasons.push(reason.message));
    const controller = new AbortController();
    const pending = scheduler.wait(60_000, { signal: controller.signal }).catch((reason) => reasons.push(reason));
    controller.abort("stop");
    await pending;
    await scheduler.wait(1, { signal: {} }).catch((error) => reasons.push(error.name));
    const started = Date.now();
    await scheduler.wait(20);
    return [reasons, Date.now() - started >= 19];
  })()`);
  t.deepEqual(result, [["already", "stop", "TypeError"], true]);
});

test("reportError: logs the error as uncaught and returns; PromiseRejectionEvent and PerformanceEntry cannot be constructed", async (t) => {
  const result = await run(`(() => {
    const returned = reportError(new TypeError("reported"));
    const illegal = [PromiseRejectionEvent, PerformanceEntry, PerformanceMeasure, Performance].map((ctor) => { try { new ctor("x", {}); return "made"; } catch (error) { return error.message; } });
    return [returned, illegal];
  })()`);
  t.deepEqual(result, [undefined, ["Illegal constructor", "Illegal constructor", "Illegal constructor", "Illegal constructor"]]);
});

test("reportError: one error-level record, Uncaught and the error as inspected", async (t) => {
  await withPrelude({}, async (harness) => {
    await harness.evaluate(`reportError(new RangeError("reported once"))`);
    const reported = harness.logs.filter((line) => line.message.includes("reported once"));
    t.is(reported.length, 1);
    t.is(reported[0]?.level, "error");
    t.regex(reported[0]?.message ?? "", /^Uncaught RangeError: reported once/);
  });
});

test("URLPattern: an accessor until first read (the polyfill is a lazy module), then a plain global that matches", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(() => {
      const before = typeof Object.getOwnPropertyDescriptor(globalThis, "URLPattern").get;
      const pattern = new URLPattern({ pathname: "/books/:id" });
      const after = Object.getOwnPropertyDescriptor(globalThis, "URLPattern");
      return [before, typeof after.get, typeof after.value, after.enumerable, pattern.exec("https://x.test/books/7").pathname.groups.id, pattern.test("https://x.test/films/7")];
    })()`);
    t.deepEqual(result, ["function", "undefined", "function", false, "7", false]);
  });
});

test("crypto.subtle.timingSafeEqual: reads sizes from internal slots (a patched byteLength getter changes nothing) and refuses unequal lengths", async (t) => {
  const result = await run(`(() => {
    const proto = Object.getPrototypeOf(Uint8Array.prototype);
    const saved = Object.getOwnPropertyDescriptor(proto, "byteLength");
    Object.defineProperty(proto, "byteLength", { get: () => 0, configurable: true });
    try {
      const outcome = (work) => { try { return work(); } catch (error) { return [error.name, error.message]; } };
      return [
        crypto.subtle.timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])),
        crypto.subtle.timingSafeEqual(new Uint8Array([7, 8]).buffer, new DataView(new Uint8Array([7, 8]).buffer)),
        outcome(() => crypto.subtle.timingSafeEqual(new Uint8Array(2), new Uint8Array(3))),
        outcome(() => crypto.subtle.timingSafeEqual("ab", new Uint8Array(2)))[0],
      ];
    } finally {
      Object.defineProperty(proto, "byteLength", saved);
    }
  })()`);
  t.deepEqual(result, [false, true, ["TypeError", "Input buffers must have the same byte length."], "TypeError"]);
});

test("setImmediate runs after the current task's microtasks and in creation order with zero-delay timeouts; clearImmediate cancels", async (t) => {
  const result = await run(`(async () => {
    const order = [];
    setImmediate((value) => order.push("immediate " + value), 1);
    setTimeout(() => order.push("timeout"), 0);
    const cancelled = setImmediate(() => order.push("cancelled"));
    clearImmediate(cancelled);
    queueMicrotask(() => order.push("microtask"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    let refused;
    try { setImmediate("code"); } catch (error) { refused = error.name; }
    return [order, refused];
  })()`);
  t.deepEqual(result, [["microtask", "immediate 1", "timeout"], "TypeError"]);
});
