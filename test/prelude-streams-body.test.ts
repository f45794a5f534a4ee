import test from "ava";
import { appWithFetch, bodyText, bufferOf, sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("streams body: new Response(readableStream) is read by text(), arrayBuffer() and json()", async (t) => {
  const result = await run(`(async () => {
    const enc = new TextEncoder();
    const make = (parts) => new ReadableStream({ start(c) { for (const p of parts) c.enqueue(enc.encode(p)); c.close(); } });
    const r = new Response(make(["hé", "llo"]));
    const bodyIsSame = r.body instanceof ReadableStream;
    const text = await r.text();
    const bytes = [...new Uint8Array(await new Response(make(["ab"])).arrayBuffer())];
    const json = await new Response(make(['{"a":', '[1]}'])).json();
    return { bodyIsSame, text, used: r.bodyUsed, bytes, json, contentType: r.headers.get("content-type") };
  })()`);
  t.deepEqual(result, { bodyIsSame: true, text: "héllo", used: true, bytes: [97, 98], json: { a: [1] }, contentType: null });
});

test("streams body: body of a string or bytes body is a byte stream with its bytes; no body is null", async (t) => {
  const result = await run(`(async () => {
    const r = new Response("hi");
    const reader = r.body.getReader();
    const first = await reader.read();
    const second = await reader.read();
    const byob = new Response(new Uint8Array([1, 2, 3])).body.getReader({ mode: "byob" });
    const part = await byob.read(new Uint8Array(2));
    return { same: r.body === r.body, first: [...first.value], done: second.done, used: r.bodyUsed, byob: [...part.value],
      none: new Response(null).body, get: new Request("https://a.example/").body };
  })()`);
  t.deepEqual(result, { same: true, first: [104, 105], done: true, used: true, byob: [1, 2], none: null, get: null });
});

test("streams body: a locked or read stream body cannot be read again or passed on", async (t) => {
  const result = await run(`(async () => {
    const errors = [];
    const attempt = async (fn) => { try { await fn(); errors.push("ok"); } catch (error) { errors.push(error.name); } };
    const locked = new Response("x"); locked.body.getReader();
    await attempt(() => locked.text());
    const read = new Response("x"); await read.text();
    await attempt(() => read.text());
    const rs = new ReadableStream(); rs.getReader();
    await attempt(() => new Response(rs));
    const disturbed = ReadableStream.from([new Uint8Array(1)]); await disturbed.cancel();
    await attempt(() => new Response(disturbed));
    await attempt(() => new Response(ReadableStream.from(["not bytes"])).text());
    const readBody = new Response("y"); await readBody.text();
    return { errors, lockedUsed: locked.bodyUsed, readBodyLocked: readBody.body.locked, readBodyUsed: readBody.bodyUsed };
  })()`);
  t.deepEqual(result, { errors: ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError"], lockedUsed: false, readBodyLocked: true, readBodyUsed: true });
});

test("streams body: a Request with a stream body needs duplex half and reads like any body", async (t) => {
  const result = await run(`(async () => {
    const make = () => ReadableStream.from([new TextEncoder().encode("up"), new TextEncoder().encode("load")]);
    let error = "none";
    try { new Request("https://a.example/", { method: "POST", body: make() }); } catch (e) { error = e.name; }
    const request = new Request("https://a.example/", { method: "POST", body: make(), duplex: "half" });
    const moved = new Request(request);
    return { error, duplex: request.duplex, text: await moved.text(), inputUsed: request.bodyUsed };
  })()`);
  t.deepEqual(result, { error: "TypeError", duplex: "half", text: "upload", inputUsed: true });
});

test("streams body: clone tees a stream body", async (t) => {
  const result = await run(`(async () => {
    const r = new Response(ReadableStream.from([new Uint8Array([1]), new Uint8Array([2])]));
    const c = r.clone();
    const touched = new Response("abc"); touched.body;
    const tc = touched.clone();
    return [[...new Uint8Array(await r.arrayBuffer())], [...new Uint8Array(await c.arrayBuffer())], await touched.text(), await tc.text()];
  })()`);
  t.deepEqual(result, [[1, 2], [1, 2], "abc", "abc"]);
});

test("streams body: a handler's stream response is read to the end and sent as bytes", async (t) => {
  const app = appWithFetch(`async (request) => {
    const enc = new TextEncoder();
    let i = 0;
    const body = new ReadableStream({ async pull(c) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (i < 3) c.enqueue(enc.encode("chunk" + i++ + ";")); else c.close();
    } });
    return new Response(body, { headers: { "x-kind": "stream" } });
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.is(outcome.kind, "respond");
    t.true(outcome.kind === "respond" && outcome.body instanceof ArrayBuffer);
    t.is(bodyText(outcome), "chunk0;chunk1;chunk2;");
  });
});

test("streams body: the incoming request body is a stream that can be piped into the response", async (t) => {
  const app = appWithFetch(`(request) => new Response(request.body.pipeThrough(new TransformStream({
    transform(chunk, c) { c.enqueue(chunk.map((b) => b >= 97 && b <= 122 ? b - 32 : b)); } })))`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("POST", "https://app.example/", [], bufferOf("shout this"));
    t.is(bodyText(outcome), "SHOUT THIS");
  });
});

// A stream response is answered at once and its body pulled as the client
// reads (outgoing-body.ts): limits and errors surface in the body, after the
// status went out (the host then cuts the connection; see run-pulled-body).
test("streams body: an endless stream response is pulled on demand, never collected", async (t) => {
  const app = appWithFetch(`() => new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(64 * 1024)); } }))`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.like(outcome, { kind: "respond", status: 200, bodyFailed: "limit" });
  });
});

test("streams body: a stream response that errors mid-body ends its body as failed", async (t) => {
  const app = appWithFetch(`() => new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(1)); c.error(new Error("boom")); } }))`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.like(outcome, { kind: "respond", status: 200, bodyFailed: "error" });
  });
});
