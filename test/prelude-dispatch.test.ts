import test from "ava";
import ivm from "isolated-vm";
import { appWithFetch, bodyText, bufferOf, preludeScript, withPrelude } from "./helpers/prelude-harness.js";

test("init: a script without __edgehost_app answers no_default_export", async (t) => {
  await withPrelude({ appSource: "var unrelated = 1;" }, async (harness) => {
    t.is(harness.initResult, "no_default_export");
  });
});

test("init: an export without default answers no_default_export", async (t) => {
  await withPrelude({ appSource: "var __edgehost_app = { named: {} };" }, async (harness) => {
    t.is(harness.initResult, "no_default_export");
  });
});

test("init: a default export without fetch answers no_fetch_handler", async (t) => {
  await withPrelude({ appSource: "var __edgehost_app = { default: { scheduled() {} } };" }, async (harness) => {
    t.is(harness.initResult, "no_fetch_handler");
  });
});

test("init: a valid app answers '' and the export global is cleared", async (t) => {
  await withPrelude({ appSource: appWithFetch("() => new Response('ok')") }, async (harness) => {
    t.is(harness.initResult, "");
    t.is(await harness.evaluate("typeof __edgehost_app"), "undefined");
  });
});

test("isolation: tenant code sees no host functions, dispatch, WebAssembly, SharedArrayBuffer, Atomics, require or Node's process", async (t) => {
  await withPrelude({ appSource: appWithFetch("() => new Response('ok')") }, async (harness) => {
    const result = await harness.evaluate(`(() => {
      const names = ["__edgehost_host", "__edgehost_dispatch", "dispatch", "module", "exports", "WebAssembly", "SharedArrayBuffer", "Atomics", "require"];
      const visible = names.filter((name) => name in globalThis);
      const enumerable = Object.keys(globalThis);
      // The prelude's process (process.ts) has env and nextTick, nothing of the host's.
      return [visible, enumerable, Object.getOwnPropertyNames(globalThis).filter((name) => name.startsWith("__")), Reflect.ownKeys(process).map(String)];
    })()`);
    t.deepEqual(result, [[], ["__edgehost_app"], ["__edgehost_app"], ["env", "nextTick", "Symbol(Symbol.toStringTag)"]]);
    t.is(await harness.evaluate("__edgehost_app"), undefined);
  });
});

test("isolation: the Web API globals are present", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`["Request", "Response", "Headers", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "atob", "btoa",
      "DOMException", "structuredClone", "crypto", "AbortController", "AbortSignal", "EventTarget", "Event", "setTimeout", "clearTimeout",
      "setInterval", "clearInterval", "queueMicrotask", "console", "fetch", "FormData", "navigator", "self", "Buffer"].filter((name) => typeof globalThis[name] === "undefined")`);
    t.deepEqual(result, []);
    t.deepEqual(await harness.evaluate(`[navigator.userAgent, self === globalThis, global === globalThis, eval("1 + 1")]`), ["Cloudflare-Workers", true, true, 2]);
  });
});

test("dispatch: the handler gets the request, env and ctx, and incoming headers are immutable", async (t) => {
  const app = appWithFetch(`async (request, env, ctx) => {
    let mutable = true;
    try { request.headers.set("x", "y"); } catch { mutable = false; }
    return Response.json({ method: request.method, url: request.url, header: request.headers.get("x-custom"), body: await request.text(),
      env, mutable, ctx: [typeof ctx.waitUntil, typeof ctx.passThroughOnException], signal: request.signal.aborted });
  }`);
  await withPrelude({ appSource: app, env: { GREETING: "hi" } }, async (harness) => {
    const outcome = await harness.request("PATCH", "https://app.example/a?b=c", ["x-custom", "yes"], bufferOf("payload"));
    t.like(outcome, { kind: "respond", status: 200, headers: ["content-type", "application/json"] });
    t.deepEqual(JSON.parse(bodyText(outcome) ?? "null"), {
      method: "PATCH",
      url: "https://app.example/a?b=c",
      header: "yes",
      body: "payload",
      env: { GREETING: "hi" },
      mutable: false,
      ctx: ["function", "function"],
      signal: false,
    });
  });
});

test("dispatch: a thrown error is reported as exception with name, message and stack", async (t) => {
  await withPrelude({ appSource: appWithFetch(`() => { throw new RangeError("broken handler"); }`) }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.like(outcome, { kind: "fail", code: "exception", name: "RangeError", message: "broken handler" });
    t.regex(outcome.kind === "fail" ? outcome.stack : "", /^RangeError: broken handler\n\s+at .*app\.js/);
  });
});

test("dispatch: a rejected promise and a non-Error throwable are reported as exception", async (t) => {
  const app = appWithFetch(`async (request) => { if (request.url.endsWith("/string")) throw "plain string"; await null; throw new TypeError("async broke"); }`);
  await withPrelude({ appSource: app }, async (harness) => {
    t.like(await harness.request("GET", "https://app.example/async"), { kind: "fail", code: "exception", name: "TypeError", message: "async broke" });
    t.like(await harness.request("GET", "https://app.example/string"), { kind: "fail", code: "exception", name: "Error", message: "plain string", stack: "" });
  });
});

test("dispatch: a handler result that is not a Response is reported as bad_response", async (t) => {
  const app = appWithFetch(`async (request) => request.url.endsWith("/object") ? { status: 200 } : "text"`);
  await withPrelude({ appSource: app }, async (harness) => {
    const object = await harness.request("GET", "https://app.example/object");
    t.like(object, { kind: "fail", code: "bad_response", name: "TypeError" });
    t.regex(object.kind === "fail" ? object.message : "", /expected a Response, got \[object Object\]/);
    t.like(await harness.request("GET", "https://app.example/text"), { kind: "fail", code: "bad_response", name: "TypeError" });
  });
});

test("dispatch: returning the same Response with a body twice fails the second time", async (t) => {
  const app = appWithFetch(`() => cached`, `const cached = new Response("once");`);
  await withPrelude({ appSource: app }, async (harness) => {
    t.like(await harness.request("GET", "https://app.example/"), { kind: "respond", body: "once" });
    t.like(await harness.request("GET", "https://app.example/"), { kind: "fail", code: "bad_response", name: "TypeError" });
  });
});

test("dispatch: Response.error() is reported as bad_response", async (t) => {
  await withPrelude({ appSource: appWithFetch(`() => Response.error()`) }, async (harness) => {
    t.like(await harness.request("GET", "https://app.example/"), { kind: "fail", code: "bad_response", name: "TypeError" });
  });
});

test("waitUntil: with nothing passed, respond itself says the request is finished", async (t) => {
  await withPrelude({ appSource: appWithFetch(`() => new Response("quick")`) }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    await harness.done(outcome.requestId);
    t.deepEqual(harness.events, [
      { requestId: outcome.requestId, event: "respond" },
      { requestId: outcome.requestId, event: "finished" },
    ]);
  });
});

test("waitUntil: waitUntilDone waits for every promise, after the response, and also after a failure", async (t) => {
  const app = appWithFetch(`(request, env, ctx) => {
    ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log("background done"); resolve(); }, 10)));
    ctx.waitUntil(Promise.reject(new Error("background failed")));
    if (request.url.endsWith("/fail")) throw new Error("handler failed");
    return new Response("sent first");
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const ok = await harness.request("GET", "https://app.example/");
    t.deepEqual(harness.events, [{ requestId: ok.requestId, event: "respond" }]);
    await harness.done(ok.requestId);
    t.deepEqual(harness.events, [
      { requestId: ok.requestId, event: "respond" },
      { requestId: ok.requestId, event: "waitUntilDone" },
    ]);
    t.deepEqual(
      harness.logs.map((line) => [line.requestId, line.level, line.message.split("\n")[0]]),
      [
        [ok.requestId, "error", "Uncaught Error: background failed"],
        [ok.requestId, "log", "background done"],
      ],
    );
    const failed = await harness.request("GET", "https://app.example/fail");
    t.is(failed.kind, "fail");
    await harness.done(failed.requestId);
    t.deepEqual(harness.events.slice(2), [
      { requestId: failed.requestId, event: "fail" },
      { requestId: failed.requestId, event: "waitUntilDone" },
    ]);
  });
});

test("abort: dispatch('abort') aborts request.signal with an AbortError", async (t) => {
  const app = appWithFetch(`(request) => new Promise((resolve) => {
    request.signal.addEventListener("abort", () => {
      const reason = request.signal.reason;
      resolve(Response.json([request.signal.aborted, reason instanceof DOMException, reason.name]));
    });
  })`);
  await withPrelude({ appSource: app }, async (harness) => {
    const requestId = await harness.start("GET", "https://app.example/");
    await harness.dispatch("abort", requestId);
    t.is(bodyText(await harness.outcome(requestId)), JSON.stringify([true, true, "AbortError"]));
  });
});

test("abort: a request.signal first read after dispatch('abort') is already aborted (the signal is made on first use)", async (t) => {
  const app = appWithFetch(`(request) => new Promise((resolve) => {
    globalThis.finish = () => resolve(Response.json([request.signal.aborted, request.signal.reason.name]));
  })`);
  await withPrelude({ appSource: app }, async (harness) => {
    const requestId = await harness.start("GET", "https://app.example/");
    await harness.dispatch("abort", requestId);
    await harness.evaluate("finish()");
    t.is(bodyText(await harness.outcome(requestId)), JSON.stringify([true, "AbortError"]));
  });
});

test("dispatch: unknown kinds and stale ids are ignored without throwing to the host", async (t) => {
  await withPrelude({ appSource: appWithFetch(`() => new Response("ok")`) }, async (harness) => {
    t.is(await harness.dispatch("no-such-kind"), undefined);
    t.is(await harness.dispatch("timer", 999), undefined);
    t.is(await harness.dispatch("fetch-result", 999, 200, "", [], null, ""), undefined);
    t.is(await harness.dispatch("abort", "unknown"), undefined);
    t.deepEqual(
      harness.logs.map((line) => line.message.split("\n")[0]),
      ['Uncaught TypeError: edgehost prelude: unknown dispatch kind "no-such-kind"'],
    );
  });
});

test("dispatch: concurrent requests keep their own request ids across awaits", async (t) => {
  const app = appWithFetch(`async (request) => {
    await new Promise((resolve) => setTimeout(resolve, request.url.endsWith("/slow") ? 20 : 1));
    console.log(request.url);
    return new Response(request.url);
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const slow = await harness.start("GET", "https://app.example/slow");
    const fast = await harness.start("GET", "https://app.example/fast");
    await Promise.all([harness.outcome(slow), harness.outcome(fast)]);
    t.deepEqual(
      harness.logs.map((line) => [line.requestId, line.message]),
      [
        [fast, "https://app.example/fast"],
        [slow, "https://app.example/slow"],
      ],
    );
  });
});

test("dispatch: the prelude throws at boot if the host global is missing", async (t) => {
  // Booting without host functions must fail loudly rather than run half set up.
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  try {
    const context = await isolate.createContext();
    const error = await t.throwsAsync(context.eval(preludeScript()));
    t.regex(error?.message ?? "", /__edgehost_host is missing/);
  } finally {
    isolate.dispose();
  }
});

test("isolation: stack frame objects do not hand out prelude functions", async (t) => {
  // V8 CallSite.getFunction/getThis return the function of sloppy-mode frames:
  // the prelude is strict, so its frames (dispatch among them) give undefined.
  const app = `var __edgehost_app = { default: { fetch: function (request) {
    const original = Error.prepareStackTrace;
    Error.prepareStackTrace = (error, frames) => frames.map((frame) => [frame.getFileName(), typeof frame.getFunction(), typeof frame.getThis()]);
    const frames = new Error().stack;
    Error.prepareStackTrace = original;
    return Response.json(frames.filter((frame) => frame[0] !== "app.js"));
  } } };`;
  await withPrelude({ appSource: app }, async (harness) => {
    const frames = JSON.parse(bodyText(await harness.request("GET", "https://app.example/")) ?? "[]") as string[][];
    t.true(frames.length > 0);
    t.deepEqual(frames.filter((frame) => frame[1] !== "undefined" || frame[2] !== "undefined"), []);
  });
});
