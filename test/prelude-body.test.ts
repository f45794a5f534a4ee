import test from "ava";
import { appWithFetch, bodyText, bufferOf, sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("Response: defaults, text body and its content type", async (t) => {
  const result = await run(`(async () => {
    const r = new Response("héllo");
    return { status: r.status, ok: r.ok, statusText: r.statusText, type: r.type, url: r.url, redirected: r.redirected,
      contentType: r.headers.get("content-type"), used: r.bodyUsed, text: await r.text(), usedAfter: r.bodyUsed };
  })()`);
  t.deepEqual(result, {
    status: 200,
    ok: true,
    statusText: "",
    type: "default",
    url: "",
    redirected: false,
    contentType: "text/plain;charset=UTF-8",
    used: false,
    text: "héllo",
    usedAfter: true,
  });
});

test("Response: a body can be read only once", async (t) => {
  const result = await run(`(async () => {
    const r = new Response("x");
    await r.text();
    try { await r.arrayBuffer(); return "read twice"; } catch (error) { return error.name; }
  })()`);
  t.is(result, "TypeError");
});

test("Response: clone gives an independent copy of status, headers and body", async (t) => {
  const result = await run(`(async () => {
    const r = new Response(new Uint8Array([1, 2, 3]), { status: 201, statusText: "Made", headers: { "x-a": "1" } });
    const c = r.clone();
    const first = new Uint8Array(await r.arrayBuffer());
    first[0] = 99;
    return [c.status, c.statusText, c.headers.get("x-a"), [...new Uint8Array(await c.arrayBuffer())]];
  })()`);
  t.deepEqual(result, [201, "Made", "1", [1, 2, 3]]);
});

test("Response: Response.json sets the body and application/json", async (t) => {
  const result = await run(`(async () => {
    const r = Response.json({ a: [1, "two"] }, { status: 202, headers: { "x-b": "y" } });
    const custom = Response.json(1, { headers: { "content-type": "application/vnd.api+json" } });
    return [r.status, r.headers.get("content-type"), r.headers.get("x-b"), await r.json(), custom.headers.get("content-type")];
  })()`);
  t.deepEqual(result, [202, "application/json", "y", { a: [1, "two"] }, "application/vnd.api+json"]);
});

test("Response: Response.redirect validates status and resolves the location", async (t) => {
  const result = await run(`(() => {
    const r = Response.redirect("https://example.com/a/../b?q", 307);
    const errors = [];
    try { Response.redirect("https://example.com/", 200); } catch (error) { errors.push(error.name); }
    try { Response.redirect("not a url"); } catch (error) { errors.push(error.name); }
    return [r.status, r.headers.get("location"), Response.redirect("https://example.com").status, errors];
  })()`);
  t.deepEqual(result, [307, "https://example.com/b?q", 302, ["RangeError", "TypeError"]]);
});

test("Response: Response.error has status 0 and type error", async (t) => {
  t.deepEqual(await run(`(() => { const r = Response.error(); return [r.status, r.type, r.ok]; })()`), [0, "error", false]);
});

test("Response: constructor rejects bad status, statusText and bodies on null-body statuses", async (t) => {
  const result = await run(`(() => {
    const attempts = [
      () => new Response(null, { status: 199 }),
      () => new Response(null, { status: 600 }),
      () => new Response(null, { statusText: "bad\\nline" }),
      () => new Response("body", { status: 204 }),
    ];
    return attempts.map((attempt) => { try { attempt(); return "ok"; } catch (error) { return error.name; } });
  })()`);
  t.deepEqual(result, ["RangeError", "RangeError", "TypeError", "TypeError"]);
});

test("Response: formData parses application/x-www-form-urlencoded", async (t) => {
  const result = await run(`(async () => {
    const r = new Response("a=1&b=two+words&a=%C3%A9", { headers: { "content-type": "application/x-www-form-urlencoded" } });
    const form = await r.formData();
    return [form.getAll("a"), form.get("b"), form.has("c"), [...form.keys()]];
  })()`);
  t.deepEqual(result, [["1", "é"], "two words", false, ["a", "b", "a"]]);
});

test("Response: URLSearchParams and FormData bodies round-trip through formData", async (t) => {
  const result = await run(`(async () => {
    const fromParams = new Response(new URLSearchParams({ x: "1 2", y: "ü" }));
    const form = new FormData();
    form.append("name", "value with \\"quotes\\"");
    form.append("multi", "line\\r\\nbreak");
    const fromForm = new Response(form);
    const parsed = await fromForm.clone().formData();
    return [fromParams.headers.get("content-type"), await fromParams.clone().text(), (await fromParams.formData()).get("y"),
      fromForm.headers.get("content-type").startsWith("multipart/form-data; boundary="), [...parsed]];
  })()`);
  t.deepEqual(result, [
    "application/x-www-form-urlencoded;charset=UTF-8",
    "x=1+2&y=%C3%BC",
    "ü",
    true,
    [
      ["name", 'value with "quotes"'],
      ["multi", "line\r\nbreak"],
    ],
  ]);
});

test("Response: json rejects invalid JSON with SyntaxError and bytes returns a Uint8Array", async (t) => {
  const result = await run(`(async () => {
    let name;
    try { await new Response("{oops").json(); } catch (error) { name = error.name; }
    const bytes = await new Response("ab").bytes();
    return [name, bytes instanceof Uint8Array, [...bytes]];
  })()`);
  t.deepEqual(result, ["SyntaxError", true, [97, 98]]);
});

test("Response: text strips a UTF-8 byte order mark", async (t) => {
  t.is(await run(`new Response(new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69])).text()`), "hi");
});

test("Request: method is normalised, url parsed, defaults set", async (t) => {
  const result = await run(`(() => {
    const r = new Request("HTTPS://Example.COM:443/a/./b?x#frag", { method: "post" });
    const patch = new Request("https://example.com/", { method: "patch" });
    return [r.method, r.url, r.redirect, r.signal.aborted, r.bodyUsed, r.body, patch.method];
  })()`);
  t.deepEqual(result, ["POST", "https://example.com/a/b?x#frag", "follow", false, false, null, "patch"]);
});

test("Request: invalid input throws TypeError", async (t) => {
  const result = await run(`(() => {
    const attempts = [
      () => new Request("/relative"),
      () => new Request("https://example.com/", { method: "CONNECT" }),
      () => new Request("https://example.com/", { method: "bad method" }),
      () => new Request("https://example.com/", { body: "x" }),
      () => new Request("https://example.com/", { method: "HEAD", body: "x" }),
      () => new Request("https://example.com/", { redirect: "sometimes" }),
    ];
    return attempts.map((attempt) => { try { attempt(); return "ok"; } catch (error) { return error.name; } });
  })()`);
  t.deepEqual(result, Array(6).fill("TypeError"));
});

test("Request: new Request(request, init) copies fields and moves the body", async (t) => {
  const result = await run(`(async () => {
    const original = new Request("https://example.com/x", { method: "PUT", headers: { "x-a": "1" }, body: "payload", redirect: "manual" });
    const copy = new Request(original, { headers: { "x-b": "2" } });
    return [copy.method, copy.url, copy.redirect, copy.headers.get("x-a"), copy.headers.get("x-b"), original.bodyUsed, await copy.text()];
  })()`);
  t.deepEqual(result, ["PUT", "https://example.com/x", "manual", null, "2", true, "payload"]);
});

test("Request: clone keeps the body readable twice and follows the signal", async (t) => {
  const result = await run(`(async () => {
    const controller = new AbortController();
    const r = new Request("https://example.com/", { method: "POST", body: "data", signal: controller.signal });
    const c = r.clone();
    controller.abort("stop");
    return [await r.text(), await c.text(), r.signal.aborted, c.signal.aborted, c.signal.reason];
  })()`);
  t.deepEqual(result, ["data", "data", true, true, "stop"]);
});

test("Request: body stream passes a body on to a new Response", async (t) => {
  const result = await run(`(async () => {
    const r = new Request("https://example.com/", { method: "POST", body: "streamed" });
    const response = new Response(r.body);
    // Per the Fetch Standard the stream is disturbed only once the new response reads it.
    const before = r.bodyUsed;
    return [before, await response.text(), r.bodyUsed];
  })()`);
  t.deepEqual(result, [false, "streamed", true]);
});

test("Response: body reader yields the bytes once, then done", async (t) => {
  const result = await run(`(async () => {
    const reader = new Response("abc").body.getReader();
    const first = await reader.read();
    const second = await reader.read();
    return [first.done, [...first.value], second.done];
  })()`);
  t.deepEqual(result, [false, [97, 98, 99], true]);
});

test("dispatch: binary request and response bodies round-trip all 256 byte values", async (t) => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const app = appWithFetch(`async (request) => {
    const body = new Uint8Array(await request.arrayBuffer());
    const ok = body.length === 256 && body.every((value, index) => value === index);
    return new Response(body, { headers: { "x-intact": String(ok) } });
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("POST", "https://example.com/echo", [], bytes.buffer.slice(0));
    if (outcome.kind !== "respond") return t.fail(`expected a response, got ${outcome.message}`);
    t.deepEqual(outcome.headers, ["x-intact", "true"]);
    t.true(outcome.body instanceof ArrayBuffer);
    t.deepEqual([...new Uint8Array(outcome.body as ArrayBuffer)], [...bytes]);
  });
});

test("dispatch: a string body leaves the isolate as the string itself", async (t) => {
  await withPrelude({ appSource: appWithFetch(`() => new Response("plain ✓", { status: 418, statusText: "Teapot" })`) }, async (harness) => {
    const outcome = await harness.request("GET", "https://example.com/");
    t.like(outcome, { kind: "respond", status: 418, statusText: "Teapot", headers: ["content-type", "text/plain;charset=UTF-8"], body: "plain ✓" });
  });
});

test("dispatch: urlencoded request bodies parse with request.formData()", async (t) => {
  const app = appWithFetch(`async (request) => {
    const form = await request.formData();
    return Response.json({ name: form.get("name"), tags: form.getAll("tag") });
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("POST", "https://example.com/", ["content-type", "application/x-www-form-urlencoded"], bufferOf("name=J%C3%BCrgen&tag=a&tag=b+c"));
    t.is(bodyText(outcome), JSON.stringify({ name: "Jürgen", tags: ["a", "b c"] }));
  });
});

test("Response: a 1-byte view with patched %TypedArray% getters leaves the isolate as 1 byte", async (t) => {
  const app = appWithFetch(`() => {
    const view = new Uint8Array([0x61]);
    const big = new ArrayBuffer(5_000_000);
    const proto = Object.getPrototypeOf(Uint8Array.prototype);
    Object.defineProperty(proto, "buffer", { get: () => big, configurable: true });
    Object.defineProperty(proto, "byteLength", { get: () => 5_000_000, configurable: true });
    Object.defineProperty(proto, "byteOffset", { get: () => 0, configurable: true });
    Object.defineProperty(ArrayBuffer.prototype, "byteLength", { get: () => 5_000_000, configurable: true });
    proto.slice = function () { return new Uint8Array(big); };
    return new Response(view);
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://example.com/");
    t.is(outcome.kind, "respond");
    const body = outcome.kind === "respond" ? outcome.body : null;
    t.true(body instanceof ArrayBuffer);
    t.deepEqual([...new Uint8Array(body as ArrayBuffer)], [0x61]);
  });
});

test("dispatch: an ArrayBuffer allocation refused by the memory limit fails as memory, a bad length as exception", async (t) => {
  const app = appWithFetch(`(request) => new Response(new Uint8Array(request.url.endsWith("/huge") ? 1024 * 1024 * 1024 : -1))`);
  await withPrelude({ appSource: app }, async (harness) => {
    const huge = await harness.request("GET", "https://example.com/huge");
    t.like(huge, { kind: "fail", code: "memory", name: "RangeError", message: "Array buffer allocation failed" });
    const bad = await harness.request("GET", "https://example.com/bad");
    t.like(bad, { kind: "fail", code: "exception", name: "RangeError" });
  });
});
