import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import test from "ava";
import { withApp } from "./helpers/with-app.js";

interface ErrorBody {
  error: string;
  requestId: string;
}

const hostCallsApp = `
const hex = (buffer: ArrayBuffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** A 1-byte Uint8Array whose inherited getters lie, as hostile code can make them. */
function lyingView(): Uint8Array {
  const big = new ArrayBuffer(5_000_000);
  const proto = Object.getPrototypeOf(Uint8Array.prototype);
  Object.defineProperty(proto, "buffer", { get: () => big, configurable: true });
  Object.defineProperty(proto, "byteLength", { get: () => 5_000_000, configurable: true });
  Object.defineProperty(proto, "byteOffset", { get: () => 0, configurable: true });
  Object.defineProperty(ArrayBuffer.prototype, "byteLength", { get: () => 5_000_000, configurable: true });
  const view = new Uint8Array([0x61]);
  return view;
}

async function failures(): Promise<Array<{ case: string; name: string; message: string; stack: string }>> {
  const attempts: Record<string, () => unknown> = {
    "byteLength changes between reads": () => {
      const array = new Uint8Array(16);
      let reads = 0;
      Object.defineProperty(array, "byteLength", { get: () => (reads++ === 0 ? 16 : 100_000) });
      return crypto.getRandomValues(array);
    },
    "float array": () => crypto.getRandomValues(new Float64Array(2)),
    "too many random bytes": () => crypto.getRandomValues(new Uint8Array(65537)),
    "look-alike typed array": () => crypto.getRandomValues(Object.create(Uint8Array.prototype)),
    "unknown digest": () => crypto.subtle.digest("SHA-3", new Uint8Array(1)),
    "digest named constructor": () => crypto.subtle.digest({ name: "constructor" }, new Uint8Array(1)),
    "digest of a string": () => crypto.subtle.digest("SHA-256", "text" as unknown as BufferSource),
    "digest of a look-alike buffer": () => crypto.subtle.digest("SHA-256", Object.create(ArrayBuffer.prototype)),
  };
  const seen = [];
  for (const [name, attempt] of Object.entries(attempts)) {
    try {
      await attempt();
      seen.push({ case: name, name: "none", message: "", stack: "" });
    } catch (error) {
      const e = error as Error;
      seen.push({ case: name, name: String(e.name), message: String(e.message), stack: String(e.stack) });
    }
  }
  return seen;
}

export default {
  async fetch(request: Request) {
    const path = new URL(request.url).pathname;
    if (path === "/failures") return Response.json(await failures());
    if (path === "/lying-digest") return new Response(hex(await crypto.subtle.digest("SHA-256", lyingView())));
    if (path === "/lying-body") return new Response(lyingView());
    if (path === "/big-digest") {
      const data = new Uint8Array(64 * 1024 * 1024);
      data[0] = 1;
      console.log("big digest starts");
      return new Response(hex(await crypto.subtle.digest("SHA-512", data)));
    }
    if (path === "/alloc-1gb") return new Response(new Uint8Array(1024 * 1024 * 1024));
    if (path === "/bad-length") return new Response(new Uint8Array(-1));
    if (path === "/huge-string") return new Response("x".repeat(2 ** 29 - 24));
    return new Response("small");
  },
};
`;

test("host calls: no error seen by tenant code carries a host path or a host frame", async (t) => {
  await withApp(t, hostCallsApp, [], async (server) => {
    const response = await fetch(`${server.url}/failures`);
    t.is(response.status, 200);
    const seen = (await response.json()) as Array<{ case: string; name: string; message: string; stack: string }>;
    for (const entry of seen) {
      for (const leak of ["file://", "/dist/", "host-functions"]) {
        t.false(entry.message.includes(leak) || entry.stack.includes(leak), `${entry.case}: ${entry.stack}`);
      }
    }
    t.deepEqual(
      seen.map((entry) => [entry.case, entry.name]),
      [
        ["byteLength changes between reads", "none"],
        ["float array", "TypeMismatchError"],
        ["too many random bytes", "QuotaExceededError"],
        ["look-alike typed array", "TypeMismatchError"],
        ["unknown digest", "NotSupportedError"],
        ["digest named constructor", "NotSupportedError"],
        ["digest of a string", "TypeError"],
        ["digest of a look-alike buffer", "TypeError"],
      ],
    );
  });
});

test("host calls: patched typed-array getters keep a 1-byte digest input and response body at 1 byte", async (t) => {
  await withApp(t, hostCallsApp, [], async (server) => {
    const digest = await fetch(`${server.url}/lying-digest`);
    t.is(digest.status, 200);
    t.is(await digest.text(), createHash("sha256").update("a").digest("hex"));
    const body = await fetch(`${server.url}/lying-body`);
    t.is(body.status, 200);
    t.is(body.headers.get("content-length"), "1");
    t.deepEqual([...new Uint8Array(await body.arrayBuffer())], [0x61]);
  });
});

test("host calls: a 64 MiB digest runs off the event loop, so small requests are answered before it completes", async (t) => {
  await withApp(t, hostCallsApp, ["--cpu-ms", "10000", "--memory-mb", "512"], async (server) => {
    const order: string[] = [];
    const big = fetch(`${server.url}/big-digest`).then(async (response) => {
      const text = await response.text();
      order.push("digest");
      return { status: response.status, text };
    });
    await server.waitForOutput(/big digest starts/);
    const small = await Promise.all(
      Array.from({ length: 4 }, () =>
        fetch(`${server.url}/small`).then(async (response) => {
          const text = await response.text();
          order.push("small");
          return text;
        }),
      ),
    );
    const digest = await big;
    t.deepEqual(small, ["small", "small", "small", "small"]);
    const data = new Uint8Array(64 * 1024 * 1024);
    data[0] = 1;
    t.deepEqual(digest, { status: 200, text: createHash("sha512").update(data).digest("hex") });
    t.deepEqual(order, ["small", "small", "small", "small", "digest"]);
  });
});

test("memory: an allocation refused by the memory limit answers 503 memory_limit, a bad length stays 500", async (t) => {
  // A generous CPU budget: on a loaded machine the refused allocation must not end as cpu_limit instead.
  await withApp(t, hostCallsApp, ["--cpu-ms", "5000"], async (server) => {
    const refused = await fetch(`${server.url}/alloc-1gb`);
    t.is(refused.status, 503);
    t.is(((await refused.json()) as ErrorBody).error, "memory_limit");
    const badLength = await fetch(`${server.url}/bad-length`);
    t.is(badLength.status, 500);
    t.is(((await badLength.json()) as ErrorBody).error, "app_exception");
    const next = await fetch(`${server.url}/small`);
    t.is(await next.text(), "small");
  });
});

/** Peak resident set of a process, bytes (VmHWM). */
function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

test("response size: a 512 MB string body is refused inside the isolate, before the front end holds a copy", async (t) => {
  await withApp(t, hostCallsApp, ["--memory-mb", "1024", "--cpu-ms", "5000"], async (server) => {
    const warm = await fetch(`${server.url}/small`);
    t.is(await warm.text(), "small");
    const before = peakRssBytes(server.frontEndPid);
    const response = await fetch(`${server.url}/huge-string`);
    t.is(response.status, 503);
    t.is(((await response.json()) as ErrorBody).error, "response_size_limit");
    const growth = peakRssBytes(server.frontEndPid) - before;
    t.log(`front end peak RSS grew by ${Math.round(growth / 1048576)} MiB`);
    t.true(growth < 300 * 1024 * 1024, `peak RSS grew by ${growth} bytes`);
  });
});
