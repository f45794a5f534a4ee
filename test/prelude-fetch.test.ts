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
