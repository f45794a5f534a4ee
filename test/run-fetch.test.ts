import test from "ava";
import { createServer, type Server } from "node:http";
import { withApp } from "./helpers/with-app.js";

/** A plain HTTP server on 127.0.0.1 standing in for an internal service. */
async function withUpstream<T>(body: (url: string, hits: () => number) => Promise<T>): Promise<T> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    let received = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.setHeader("set-cookie", ["u1=1", "u2=2"]);
      res.end(JSON.stringify({ method: req.method, path: req.url, header: req.headers["x-from-app"] ?? null, body: received }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    return await body(`http://127.0.0.1:${port}`, () => hits);
  } finally {
    server.close();
  }
}

const proxyApp = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const url = new URL(request.url);
    const count = Number(url.searchParams.get("count") ?? "1");
    try {
      let last: Response | undefined;
      for (let i = 0; i < count; i++) {
        last = await fetch(env.UPSTREAM + "/item/" + i, { method: "POST", headers: { "x-from-app": "yes" }, body: "payload" + i });
      }
      const data = await (last as Response).json();
      return Response.json({ ok: true, status: (last as Response).status, cookies: (last as Response).headers.getSetCookie(), data });
    } catch (error) {
      return Response.json({ ok: false, name: (error as Error).name, message: (error as Error).message });
    }
  },
};
`;

test("fetch: loopback targets are refused without --allow-private-fetch", async (t) => {
  await withUpstream(async (upstream, hits) => {
    await withApp(t, proxyApp, ["--var", `UPSTREAM=${upstream}`, "--cpu-ms", "2000"], async (server) => {
      const result = (await (await fetch(server.url)).json()) as { ok: boolean; name: string; message: string };
      t.false(result.ok);
      t.is(result.name, "TypeError");
      t.regex(result.message, /fetch to 127\.0\.0\.1 refused: loopback, private and link-local addresses are not reachable/);
      t.is(hits(), 0);
    });
  });
});

test("fetch: a hostname resolving to loopback is refused the same way", async (t) => {
  await withUpstream(async (upstream, hits) => {
    const viaName = upstream.replace("127.0.0.1", "localhost");
    await withApp(t, proxyApp, ["--var", `UPSTREAM=${viaName}`, "--cpu-ms", "2000"], async (server) => {
      const result = (await (await fetch(server.url)).json()) as { ok: boolean; message: string };
      t.false(result.ok);
      t.regex(result.message, /fetch to localhost refused/);
      t.is(hits(), 0);
    });
  });
});

test("fetch: with --allow-private-fetch the subrequest goes through with method, headers and body", async (t) => {
  await withUpstream(async (upstream, hits) => {
    await withApp(t, proxyApp, ["--var", `UPSTREAM=${upstream}`, "--allow-private-fetch", "--cpu-ms", "2000"], async (server) => {
      const result = await (await fetch(server.url)).json();
      t.deepEqual(result, {
        ok: true,
        status: 200,
        cookies: ["u1=1", "u2=2"],
        data: { method: "POST", path: "/item/0", header: "yes", body: "payload0" },
      });
      t.is(hits(), 1);
    });
  });
});

test("fetch: the per-request subrequest limit stops the next fetch", async (t) => {
  await withUpstream(async (upstream, hits) => {
    await withApp(t, proxyApp, ["--var", `UPSTREAM=${upstream}`, "--allow-private-fetch", "--subrequests", "3", "--cpu-ms", "2000"], async (server) => {
      const result = (await (await fetch(`${server.url}?count=4`)).json()) as { ok: boolean; message: string };
      t.false(result.ok);
      t.is(result.message, "too many subrequests: the limit is 3 per request");
      t.is(hits(), 3);
      // The limit is per request: the next request has its own budget.
      const again = (await (await fetch(`${server.url}?count=3`)).json()) as { ok: boolean };
      t.true(again.ok);
    });
  });
});

test("fetch: fetch at top level (outside a request) is refused", async (t) => {
  const app = `
let topLevel = "pending";
fetch("http://example.invalid/").then(() => { topLevel = "resolved"; }, (e) => { topLevel = "rejected: " + e.message; });
export default { fetch() { return new Response(topLevel); } };
`;
  await withApp(t, app, [], async (server) => {
    t.is(await (await fetch(server.url)).text(), "rejected: fetch is only allowed while handling a request (not at top level or after the response)");
  });
});

test("fetch: a subrequest that never answers is cut off with its request at the wall-time limit", async (t) => {
  let closed!: () => void;
  const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
  const hanging: Server = createServer((req) => {
    // Never answer; note when edgehost gives up on us.
    req.socket.once("close", () => closed());
  });
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  const { port } = hanging.address() as { port: number };
  try {
    await withApp(
      t,
      proxyApp,
      ["--var", `UPSTREAM=http://127.0.0.1:${port}`, "--allow-private-fetch", "--wall-ms", "500"],
      async (server) => {
        const response = await fetch(server.url);
        t.is(response.status, 504);
        t.is(((await response.json()) as { error: string }).error, "wall_time_limit");
        // The outbound connection is aborted too, not left hanging: this
        // await would time the test out otherwise.
        t.is(await Promise.race([upstreamClosed.then(() => "closed"), new Promise((resolve) => setTimeout(() => resolve("still open"), 5000))]), "closed");
      },
    );
  } finally {
    hanging.closeAllConnections();
    hanging.close();
  }
});
