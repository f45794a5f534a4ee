import test from "ava";
import { connect } from "node:net";
import { join } from "node:path";
import { startEdgehost, REPO_ROOT } from "./helpers/edgehost-process.js";
import { withApp } from "./helpers/with-app.js";

test("run: the hello example answers from its isolate", async (t) => {
  const server = await startEdgehost(join(REPO_ROOT, "examples/hello/app.ts"), ["--var", "GREETING=Howdy"]);
  try {
    const response = await fetch(`${server.url}/there`);
    t.is(response.status, 200);
    t.is(response.headers.get("content-type"), "text/plain; charset=utf-8");
    t.is(await response.text(), "Howdy from edgehost! You asked for /there\n");
    const json = await fetch(`${server.url}/json`);
    t.deepEqual(await json.json(), { hello: "world", path: "/json" });
  } finally {
    t.deepEqual(await server.stop(), { code: 0, signal: null });
  }
});

const echoApp = `
export default {
  async fetch(request: Request, env: Record<string, string>) {
    const url = new URL(request.url);
    if (url.pathname === "/echo") {
      const bytes = new Uint8Array(await request.arrayBuffer());
      return new Response(bytes, { headers: { "content-type": "application/octet-stream", "x-length": String(bytes.length) } });
    }
    if (url.pathname === "/form") {
      const form = await request.formData();
      return Response.json({ a: form.getAll("a"), b: form.get("b") });
    }
    if (url.pathname === "/cookies") {
      const headers = new Headers();
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; Path=/");
      return new Response("ok", { status: 201, headers });
    }
    if (url.pathname === "/env") return Response.json(env);
    if (url.pathname === "/nothing") return new Response(null, { status: 204 });
    return Response.json({
      method: request.method,
      query: Object.fromEntries(url.searchParams),
      header: request.headers.get("x-test"),
    });
  },
};
`;

test("run: binary request and response bodies round-trip all 256 byte values", async (t) => {
  await withApp(t, echoApp, [], async (server) => {
    const bytes = new Uint8Array(256 * 64).map((_, i) => i % 256);
    const response = await fetch(`${server.url}/echo`, { method: "POST", body: bytes });
    t.is(response.status, 200);
    t.is(response.headers.get("x-length"), String(bytes.length));
    t.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);
  });
});

test("run: method, query and headers reach the app", async (t) => {
  await withApp(t, echoApp, [], async (server) => {
    const response = await fetch(`${server.url}/q?x=1&y=two`, { method: "PUT", headers: { "x-test": "yes" } });
    t.deepEqual(await response.json(), { method: "PUT", query: { x: "1", y: "two" }, header: "yes" });
  });
});

test("run: urlencoded bodies parse with request.formData()", async (t) => {
  await withApp(t, echoApp, [], async (server) => {
    const response = await fetch(`${server.url}/form`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&a=2&b=h%C3%A9llo+world",
    });
    t.deepEqual(await response.json(), { a: ["1", "2"], b: "héllo world" });
  });
});

test("run: several set-cookie headers stay separate, status passes through", async (t) => {
  await withApp(t, echoApp, [], async (server) => {
    const response = await fetch(`${server.url}/cookies`);
    t.is(response.status, 201);
    t.deepEqual(response.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
  });
});

test("run: a 204 carries neither a body nor a Content-Length (RFC 9110)", async (t) => {
  await withApp(t, echoApp, [], async (server) => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.write("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      let text = "";
      socket.setEncoding("latin1").on("data", (chunk: string) => (text += chunk));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    t.regex(raw, /^HTTP\/1\.1 204 No Content\r\n/);
    t.notRegex(raw.toLowerCase(), /content-length/);
    // Nothing after the header block.
    t.true(raw.endsWith("\r\n\r\n"));
  });
});

test("run: HEAD gets headers without a body", async (t) => {
  await withApp(t, echoApp, [], async (server) => {
    const response = await fetch(`${server.url}/q`, { method: "HEAD" });
    t.is(response.status, 200);
    t.is(await response.text(), "");
  });
});

test("run: env merges .dev.vars with --var flags, flags winning", async (t) => {
  await withApp(
    t,
    { "app.ts": echoApp, ".dev.vars": "# comment\nFROM_FILE=file\nBOTH=file\nQUOTED=\"a b\\nc\"\n" },
    ["--var", "BOTH=flag", "--var", "ONLY_FLAG=x=y"],
    async (server) => {
      const response = await fetch(`${server.url}/env`);
      t.deepEqual(await response.json(), { FROM_FILE: "file", BOTH: "flag", QUOTED: "a b\nc", ONLY_FLAG: "x=y" });
    },
  );
});

test("run: console output reaches the server log tagged with app and request id", async (t) => {
  const app = `
export default {
  fetch(request: Request) {
    console.log("handling", new URL(request.url).pathname, { n: 1 });
    console.error("oops");
    return new Response("ok");
  },
};`;
  await withApp(t, app, [], async (server) => {
    const response = await fetch(`${server.url}/logme`);
    t.is(await response.text(), "ok");
    const output = await server.waitForOutput(/oops/);
    t.regex(output, /\[app\.ts\] \[[0-9a-f-]{36}\] log: handling \/logme \{ n: 1 \}/);
    t.regex(output, /\[app\.ts\] \[[0-9a-f-]{36}\] error: oops/);
  });
});

test("run: ctx.waitUntil work finishes after the response is sent", async (t) => {
  const app = `
export default {
  fetch(request: Request, env: unknown, ctx: { waitUntil(p: Promise<unknown>): void }) {
    ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 100)).then(() => console.log("background done")));
    return new Response("sent first");
  },
};`;
  await withApp(t, app, [], async (server) => {
    const response = await fetch(server.url);
    t.is(await response.text(), "sent first");
    t.notRegex(server.output(), /background done/);
    await server.waitForOutput(/background done/);
  });
});

test("run: console output is capped per request in characters too, and a refused timer is noted once per request, not once per call", async (t) => {
  const app = `
const line = "x".repeat(16 * 1024 - 16);
export default {
  fetch(request: Request) {
    if (request.url.endsWith("/marker")) {
      console.log("marker");
      return new Response("marked");
    }
    if (request.url.endsWith("/timers")) {
      for (let i = 0; i < 10050; i++) setTimeout(() => {}, 600000);
      return new Response("timers");
    }
    for (let i = 0; i < 100; i++) console.log(i + ":" + line);
    return new Response("logged");
  },
};`;
  await withApp(t, app, ["--cpu-ms", "5000"], async (server) => {
    t.is(await (await fetch(server.url)).text(), "logged");
    await server.waitForOutput(/more than 262144 characters of console output; the rest is dropped/);
    t.is(await (await fetch(`${server.url}/timers`)).text(), "timers");
    t.is(await (await fetch(`${server.url}/marker`)).text(), "marked");
    const output = await server.waitForOutput(/log: marker\n/);
    // 16 lines of 16 Ki characters fit in 256 Ki; the 17th does not, nor anything after it.
    t.regex(output, /log: 15:x/);
    t.notRegex(output, /log: 16:x/);
    t.is(output.match(/timer ignored: more than 10000 live timers/g)?.length, 1, "50 refused timers, one line");
  });
});

test("run: console output is capped per request so a log loop cannot flood the host", async (t) => {
  const app = `
export default {
  fetch(request: Request) {
    if (request.url.endsWith("/marker")) {
      console.log("marker");
      return new Response("marked");
    }
    for (let i = 0; i < 1200; i++) console.log("line " + i);
    return new Response("logged");
  },
};`;
  await withApp(t, app, [], async (server) => {
    t.is(await (await fetch(server.url)).text(), "logged");
    await server.waitForOutput(/more than 1000 console lines; the rest are dropped/);
    // stdout is ordered: once a later request's line is there, any line
    // past the cap would have been too.
    t.is(await (await fetch(`${server.url}/marker`)).text(), "marked");
    const output = await server.waitForOutput(/log: marker\n/);
    t.regex(output, /log: line 999\n/);
    t.notRegex(output, /log: line 1000\n/);
  });
});
