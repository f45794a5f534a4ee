import test from "ava";
import { appWithFetch, bodyText, sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("setTimeout: callbacks run in order of their delays, with their arguments", async (t) => {
  const result = await run(`new Promise((resolve) => {
    const order = [];
    setTimeout((label) => order.push(label), 30, "thirty");
    setTimeout((label) => order.push(label), 10, "ten");
    setTimeout(() => order.push("zero"));
    setTimeout((a, b) => { order.push(a + b); }, 20, "twen", "ty");
    setTimeout(() => resolve(order), 60);
  })`);
  t.deepEqual(result, ["zero", "ten", "twenty", "thirty"]);
});

test("clearTimeout: a cleared timer never runs; ids are distinct positive integers", async (t) => {
  const result = await run(`new Promise((resolve) => {
    const fired = [];
    const a = setTimeout(() => fired.push("a"), 5);
    const b = setTimeout(() => fired.push("b"), 5);
    clearTimeout(a);
    clearTimeout(12345);
    clearTimeout(undefined);
    setTimeout(() => resolve([fired, a > 0 && b > a && Number.isInteger(a)]), 30);
  })`);
  t.deepEqual(result, [["b"], true]);
});

test("setInterval: repeats until clearInterval", async (t) => {
  const result = await run(`new Promise((resolve) => {
    let count = 0;
    const id = setInterval(() => {
      count++;
      if (count === 3) {
        clearInterval(id);
        setTimeout(() => resolve(count), 30);
      }
    }, 2);
  })`);
  t.is(result, 3);
});

test("setTimeout: a non-function callback throws TypeError", async (t) => {
  t.is(await run(`(() => { try { setTimeout("code", 1); return "scheduled"; } catch (error) { return error.name; } })()`), "TypeError");
});

test("queueMicrotask: runs before timers and after the current task", async (t) => {
  const result = await run(`new Promise((resolve) => {
    const order = [];
    setTimeout(() => { order.push("timer"); resolve(order); }, 0);
    queueMicrotask(() => order.push("microtask"));
    order.push("sync");
  })`);
  t.deepEqual(result, ["sync", "microtask", "timer"]);
});

test("AbortController: abort sets aborted and reason once and fires abort listeners", async (t) => {
  const result = await run(`(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    const events = [];
    signal.onabort = (event) => events.push("onabort:" + event.type + ":" + (event.target === signal));
    signal.addEventListener("abort", () => events.push("listener"));
    const before = [signal.aborted, signal.reason];
    controller.abort("why");
    controller.abort("again");
    let thrown;
    try { signal.throwIfAborted(); } catch (error) { thrown = error; }
    return [before, signal.aborted, signal.reason, thrown, events];
  })()`);
  t.deepEqual(result, [[false, undefined], true, "why", "why", ["onabort:abort:true", "listener"]]);
});

test("AbortSignal: abort() without a reason gives an AbortError DOMException", async (t) => {
  const result = await run(`(() => {
    const controller = new AbortController();
    controller.abort();
    const r = controller.signal.reason;
    const s = AbortSignal.abort();
    return [r instanceof DOMException, r.name, r.code, s.aborted, s.reason.name, AbortSignal.abort(7).reason];
  })()`);
  t.deepEqual(result, [true, "AbortError", 20, true, "AbortError", 7]);
});

test("AbortSignal.timeout: aborts with TimeoutError after the delay", async (t) => {
  const result = await run(`new Promise((resolve) => {
    const signal = AbortSignal.timeout(5);
    const before = signal.aborted;
    signal.addEventListener("abort", () => resolve([before, signal.aborted, signal.reason.name, signal.reason instanceof DOMException]));
  })`);
  t.deepEqual(result, [false, true, "TimeoutError", true]);
});

test("AbortSignal.any: follows the first source to abort, and is aborted at once if one already is", async (t) => {
  const result = await run(`(() => {
    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    const nested = AbortSignal.any([any]);
    b.abort("from b");
    a.abort("from a");
    const early = AbortSignal.any([new AbortController().signal, AbortSignal.abort("already")]);
    return [any.aborted, any.reason, nested.aborted, nested.reason, early.aborted, early.reason];
  })()`);
  t.deepEqual(result, [true, "from b", true, "from b", true, "already"]);
});

test("AbortSignal: cannot be constructed directly", async (t) => {
  t.is(await run(`(() => { try { new AbortSignal(); return "made"; } catch (error) { return error.name; } })()`), "TypeError");
});

test("EventTarget: once, signal, removeEventListener, handleEvent and duplicates", async (t) => {
  const result = await run(`(() => {
    const target = new EventTarget();
    const calls = [];
    const listener = (event) => calls.push("fn:" + event.type);
    const controller = new AbortController();
    target.addEventListener("ping", listener);
    target.addEventListener("ping", listener);
    target.addEventListener("ping", () => calls.push("once"), { once: true });
    target.addEventListener("ping", { handleEvent: (event) => calls.push("object:" + (event.currentTarget === target)) });
    target.addEventListener("ping", () => calls.push("until-abort"), { signal: controller.signal });
    target.dispatchEvent(new Event("ping"));
    controller.abort();
    target.removeEventListener("ping", listener);
    target.dispatchEvent(new Event("ping"));
    return calls;
  })()`);
  t.deepEqual(result, ["fn:ping", "once", "object:true", "until-abort", "object:true"]);
});

test("EventTarget: dispatchEvent reports preventDefault on cancelable events and stopImmediatePropagation stops later listeners", async (t) => {
  const result = await run(`(() => {
    const target = new EventTarget();
    const calls = [];
    target.addEventListener("x", (event) => { event.preventDefault(); event.stopImmediatePropagation(); calls.push(1); });
    target.addEventListener("x", () => calls.push(2));
    const cancelable = new Event("x", { cancelable: true });
    const notCancelable = new Event("x");
    return [target.dispatchEvent(cancelable), cancelable.defaultPrevented, target.dispatchEvent(notCancelable), notCancelable.defaultPrevented, calls,
      cancelable.isTrusted, cancelable.eventPhase, cancelable.target === target];
  })()`);
  t.deepEqual(result, [false, true, true, false, [1, 1], false, 0, true]);
});

test("timers: a timer runs as part of the request that created it", async (t) => {
  const app = appWithFetch(`(request) => new Promise((resolve) => {
    setTimeout(() => { console.log("in timer"); resolve(new Response("late")); }, 5);
  })`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://example.com/");
    t.is(bodyText(outcome), "late");
    t.deepEqual(harness.timerCalls, [{ timerId: 1, requestId: outcome.requestId, delayMs: 5 }]);
    t.deepEqual(harness.logs, [{ level: "log", requestId: outcome.requestId, message: "in timer" }]);
  });
});

test("timers: an exception in a timer callback is logged as uncaught for its request", async (t) => {
  const app = appWithFetch(`(request) => { setTimeout(() => { throw new RangeError("timer broke"); }, 1); return new Response("ok"); }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://example.com/");
    const line = await harness.waitForLog((entry) => entry.level === "error");
    t.is(line.requestId, outcome.requestId);
    t.regex(line.message, /^Uncaught RangeError: timer broke\n\s+at /);
  });
});
