import test from "ava";
import { appWithFetch, bodyText, bufferOf, type FetchCall, withPrelude } from "./helpers/prelude-harness.js";

const proxyApp = appWithFetch(`async (request) => {
  const upstream = await fetch("https://upstream.example/data?x=1", { method: "POST", headers: { "X-Token": "t" }, body: "ping" });
  console.log("after fetch");
  let mutable = true;
  try { upstream.headers.set("x", "y"); } catch { mutable = false; }
  return Response.json({ status: upstream.status, statusText: upstream.statusText, url: upstream.url, redirected: upstream.redirected,
    type: upstream.headers.get("content-type"), cookies: upstream.headers.getSetCookie(), mutable, body: await upstream.text() });
}`);

test("fetch: the host gets method, url, headers and body, and the reply becomes a Response", async (t) => {
  const calls: FetchCall[] = [];
  const fetchReply = (call: FetchCall) => {
    calls.push(call);
    return { status: 201, statusText: "Created", headers: ["content-type", "text/plain", "set-cookie", "a=1", "set-cookie", "b=2"], body: bufferOf("pong ✓") };
  };
  await withPrelude({ appSource: proxyApp, fetch: fetchReply }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.deepEqual(JSON.parse(bodyText(outcome) ?? "null"), {
      status: 201,
      statusText: "Created",
      url: "https://upstream.example/data?x=1",
      redirected: false,
      type: "text/plain",
      cookies: ["a=1", "b=2"],
      mutable: false,
      body: "pong ✓",
    });
    t.is(calls.length, 1);
    const call = calls[0] as FetchCall;
    t.like(call, { callId: 1, requestId: outcome.requestId, method: "POST", url: "https://upstream.example/data?x=1" });
    t.deepEqual(call.headers, ["x-token", "t", "content-type", "text/plain;charset=UTF-8"]);
    t.is(new TextDecoder().decode(call.body ?? new ArrayBuffer(0)), "ping");
    // The continuation after `await fetch` belongs to the same request.
    t.deepEqual(harness.logs, [{ level: "log", requestId: outcome.requestId, message: "after fetch" }]);
  });
});

test("fetch: a different final url marks the response as redirected", async (t) => {
  const app = appWithFetch(`async () => { const r = await fetch("https://a.example/start"); return Response.json([r.url, r.redirected]); }`);
  await withPrelude({ appSource: app, fetch: () => ({ status: 200, url: "https://a.example/final" }) }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/")), JSON.stringify(["https://a.example/final", true]));
  });
});

test("fetch: a host error rejects with TypeError carrying the host's message", async (t) => {
  const app = appWithFetch(`async () => {
    try { await fetch("https://down.example/"); return new Response("resolved"); }
    catch (error) { return Response.json([error.constructor.name, error.message]); }
  }`);
  await withPrelude({ appSource: app, fetch: () => ({ error: { name: "TypeError", message: "connect ECONNREFUSED" } }) }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/")), JSON.stringify(["TypeError", "connect ECONNREFUSED"]));
  });
});

test("fetch: aborting the signal rejects with its reason and tells the host", async (t) => {
  const app = appWithFetch(`async () => {
    const controller = new AbortController();
    const pending = fetch("https://slow.example/", { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("gave up")), 1);
    try { await pending; return new Response("resolved"); } catch (error) { return new Response(error.message); }
  }`);
  await withPrelude({ appSource: app, fetch: () => "hang" }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/")), "gave up");
    t.deepEqual(harness.abortedFetches, [1]);
  });
});

test("fetch: an already aborted signal or a non-http URL rejects without a host call", async (t) => {
  const app = appWithFetch(`async () => {
    const results = [];
    for (const attempt of [() => fetch("https://a.example/", { signal: AbortSignal.abort() }), () => fetch("file:///etc/passwd"), () => fetch("/relative")]) {
      try { await attempt(); results.push("resolved"); } catch (error) { results.push(error.name); }
    }
    return Response.json(results);
  }`);
  await withPrelude({ appSource: app, fetch: () => ({ status: 200 }) }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/")), JSON.stringify(["AbortError", "TypeError", "TypeError"]));
    t.is(harness.fetchCalls.length, 0);
  });
});

test("fetch: accepts a Request as input and sends its body bytes", async (t) => {
  const app = appWithFetch(`async (request) => {
    const r = await fetch(new Request("https://a.example/echo", { method: "PUT", body: new Uint8Array([0, 255, 128]) }));
    return new Response(await r.arrayBuffer());
  }`);
  await withPrelude({ appSource: app, fetch: (call) => ({ status: 200, body: call.body }) }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.is(harness.fetchCalls[0]?.method, "PUT");
    t.deepEqual(outcome.kind === "respond" && outcome.body instanceof ArrayBuffer ? [...new Uint8Array(outcome.body)] : null, [0, 255, 128]);
  });
});

test("fetch streams: a streamed body is pulled chunk by chunk only once read, and read whole by text()", async (t) => {
  const app = appWithFetch(`async (request) => {
    const r = await fetch("https://upstream.example/stream");
    if (new URL(request.url).pathname === "/ignore") return new Response("status " + r.status);
    return Response.json({ text: await r.text(), used: r.bodyUsed });
  }`);
  const reply = () => ({ status: 200, chunks: [bufferOf("one "), bufferOf("two "), bufferOf("three")] });
  await withPrelude({ appSource: app, fetch: reply }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/ignore")), "status 200");
    // A body the app never touches is never pulled (the host cancels it when the request ends).
    t.deepEqual(harness.fetchBodyPulls, []);
    t.deepEqual(JSON.parse(bodyText(await harness.request("GET", "https://app.example/read")) ?? "null"), { text: "one two three", used: true });
    t.deepEqual(harness.fetchBodyPulls, [2, 2, 2, 2]);
  });
});

test("fetch streams: cancelling the reader, or aborting the fetch's signal after the response, tells the host to drop the body", async (t) => {
  const app = appWithFetch(`async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/cancel") {
      const reader = (await fetch("https://upstream.example/a")).body.getReader();
      const first = await reader.read();
      await reader.cancel();
      return new Response(new TextDecoder().decode(first.value));
    }
    const controller = new AbortController();
    const r = await fetch("https://upstream.example/b", { signal: controller.signal });
    const reader = r.body.getReader();
    await reader.read();
    const pending = reader.read();
    controller.abort(new DOMException("enough", "AbortError"));
    try { await pending; return new Response("read on"); } catch (error) { return new Response(error.name + ": " + error.message); }
  }`);
  const reply = () => ({ status: 200, chunks: [bufferOf("first"), bufferOf("second")], holdAfter: 1 });
  await withPrelude({ appSource: app, fetch: reply }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/cancel")), "first");
    t.deepEqual(harness.cancelledFetchBodies, [1]);
    t.is(bodyText(await harness.request("GET", "https://app.example/abort")), "AbortError: enough");
    t.deepEqual(harness.cancelledFetchBodies, [1, 2]);
  });
});

test("fetch streams: a host error mid-body errors the stream with a TypeError, and a BYOB reader works", async (t) => {
  const app = appWithFetch(`async () => {
    const reader = (await fetch("https://upstream.example/")).body.getReader({ mode: "byob" });
    const { value } = await reader.read(new Uint8Array(3));
    return new Response(new TextDecoder().decode(value));
  }`);
  await withPrelude({ appSource: app, fetch: () => ({ status: 200, chunks: [bufferOf("abcdef")] }) }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/byob")), "abc");
  });
  const failing = appWithFetch(`async () => {
    const r = await fetch("https://upstream.example/");
    try { await r.arrayBuffer(); return new Response("no error"); } catch (error) { return new Response(error.name + ": " + error.message); }
  }`);
  const reply = () => ({ status: 200, chunks: [bufferOf("x")], failWith: "fetch failed: the response body: terminated" });
  await withPrelude({ appSource: failing, fetch: reply }, async (harness) => {
    t.is(bodyText(await harness.request("GET", "https://app.example/")), "TypeError: fetch failed: the response body: terminated");
  });
});

test("fetch streams: a fetched body returned untouched is handed to the host to pass on, and locked; a touched one is read here", async (t) => {
  const app = appWithFetch(`async (request, env, ctx) => {
    const path = new URL(request.url).pathname;
    const r = await fetch("https://upstream.example" + path);
    if (path === "/as-is") return r;
    if (path === "/wrapped") {
      const body = r.body;
      // After the response has gone: the body is the host's now.
      ctx.waitUntil(new Promise((resolve) => setTimeout(() => {
        try { body.getReader(); console.log("readable"); } catch (error) { console.log(error.name); }
        resolve();
      }, 0)));
      return new Response(body, { status: 201 });
    }
    return new Response(r.body.pipeThrough(new TransformStream()));
  }`);
  const reply = () => ({ status: 200, chunks: [bufferOf("one "), bufferOf("two")] });
  await withPrelude({ appSource: app, fetch: reply }, async (harness) => {
    const asIs = await harness.request("GET", "https://app.example/as-is");
    t.like(asIs, { kind: "respond", status: 200, body: null, fetchedBody: 1 });
    const wrapped = await harness.request("GET", "https://app.example/wrapped");
    t.like(wrapped, { kind: "respond", status: 201, body: null, fetchedBody: 2 });
    t.deepEqual(harness.fetchBodyPulls, []);
    await harness.waitForLog((line) => line.requestId === wrapped.requestId);
    t.deepEqual(harness.logs.map((line) => line.message), ["TypeError"]);
    // Piped through a transform: read here, and sent as a pulled stream body.
    const touched = await harness.request("GET", "https://app.example/touched");
    t.is(touched.kind === "respond" ? touched.fetchedBody : "fail", undefined);
    t.is(bodyText(touched), "one two");
    t.deepEqual(harness.fetchBodyPulls, [3, 3, 3]);
  });
});
