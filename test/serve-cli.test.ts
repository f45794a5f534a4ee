/**
 * `edgehost serve <config>` end to end: the real CLI, supervisor and front
 * ends, many apps in one process, spoken to over HTTP on 127.0.0.1.
 */
import test from "ava";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { runEdgehostToExit, startEdgehostCommand, writeApp, type RunningEdgehost } from "./helpers/edgehost-process.js";

const echoApp = (name: string): string => `
let requests = 0;
export default {
  async fetch(request, env) {
    requests++;
    const url = new URL(request.url);
    if (url.pathname.endsWith("/spin")) { for (;;) {} }
    if (url.pathname.endsWith("/grow")) { const hold = []; for (;;) hold.push(new Array(1e5).fill(1)); }
    return Response.json({ app: "${name}", path: url.pathname, host: url.host, greeting: env.GREETING ?? null, key: env.KEY ?? null, requests });
  },
};
`;

function config(apps: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ listen: { host: "127.0.0.1", port: 0 }, apps, ...extra });
}

async function get(server: RunningEdgehost, host: string, path = "/"): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const response = await request(`${server.url}${path}`, { headers: { host } });
  return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
}

async function withServe(t: { teardown: (fn: () => void) => void }, files: Record<string, string>, env: NodeJS.ProcessEnv = process.env): Promise<RunningEdgehost> {
  const written = writeApp(files);
  t.teardown(written.cleanup);
  const server = await startEdgehostCommand(["serve", "edgehost.json", "--port", "0"], written.dir, env);
  t.teardown(() => void server.stop());
  return server;
}

test("serve: routes by host and path prefix, most specific wins; an unrouted host is 404 JSON", async (t) => {
  const server = await withServe(t, {
    "edgehost.json": config([
      { name: "shop", entry: "shop.ts", routes: ["shop.example.com", "*.shop.example.com"], vars: { GREETING: "shop" } },
      { name: "api", entry: "api.ts", routes: ["example.com/api"] },
      { name: "site", entry: "site.ts", routes: ["example.com"] },
    ]),
    "shop.ts": echoApp("shop"),
    "api.ts": echoApp("api"),
    "site.ts": echoApp("site"),
  });
  const app = async (host: string, path = "/"): Promise<string> => (JSON.parse((await get(server, host, path)).body) as { app: string }).app;
  t.is(await app("shop.example.com"), "shop");
  t.is(await app("eu.shop.example.com"), "shop");
  t.is(await app("example.com", "/api/orders"), "api");
  t.is(await app("example.com", "/api"), "api");
  t.is(await app("example.com", "/apiary"), "site", "prefixes match at segment boundaries");
  t.is(await app("example.com", "/"), "site");
  t.is(await app("EXAMPLE.com:8787", "/api/x"), "api", "host is case-insensitive and the port is not part of the route");
  const missing = await get(server, "other.example.org");
  t.is(missing.status, 404);
  t.is((JSON.parse(missing.body) as { error: string }).error, "no_route");
});

test("serve: secrets reach only their app's env and never the log; vars stay per app", async (t) => {
  const server = await withServe(
    t,
    {
      "edgehost.json": config([
        { name: "a", entry: "a.ts", routes: ["a.test"], vars: { GREETING: "hi-a" }, secrets: { KEY: { env: "A_KEY" } } },
        { name: "b", entry: "b.ts", routes: ["b.test"] },
      ]),
      "a.ts": echoApp("a"),
      "b.ts": echoApp("b"),
    },
    { ...process.env, A_KEY: "s3cr3t-value" },
  );
  const a = JSON.parse((await get(server, "a.test")).body) as { greeting: string; key: string };
  const b = JSON.parse((await get(server, "b.test")).body) as { greeting: string | null; key: string | null };
  t.deepEqual([a.greeting, a.key], ["hi-a", "s3cr3t-value"]);
  t.deepEqual([b.greeting, b.key], [null, null]);
  t.false(server.output().includes("s3cr3t-value"));
});

test("serve: one tenant spinning or exhausting its memory does not stop another from answering", async (t) => {
  const server = await withServe(t, {
    "edgehost.json": config([
      { name: "bad", entry: "bad.ts", routes: ["bad.test"], limits: { cpuMs: 30, memoryMb: 32 } },
      { name: "good", entry: "good.ts", routes: ["good.test"] },
    ]),
    "bad.ts": echoApp("bad"),
    "good.ts": echoApp("good"),
  });
  t.is((await get(server, "good.test")).status, 200);
  const [spin, grow] = await Promise.all([get(server, "bad.test", "/spin"), get(server, "bad.test", "/grow")]);
  t.is(spin.status, 503);
  t.is(grow.status, 503);
  const during = await Promise.all(Array.from({ length: 20 }, () => get(server, "good.test")));
  t.deepEqual([...new Set(during.map((response) => response.status))], [200]);
});

test("serve: a config with problems is refused before anything starts, every problem with its JSON path", async (t) => {
  const written = writeApp({
    "edgehost.json": JSON.stringify({ listen: { port: 70000 }, apps: [{ name: "Bad Name", entry: "missing.ts", routes: ["http://x.com"] }] }),
  });
  t.teardown(written.cleanup);
  const result = await runEdgehostToExit(["serve", "edgehost.json"], written.dir);
  t.is(result.code, 1);
  t.regex(result.stderr, /listen\.port/);
  t.regex(result.stderr, /apps\[0\]\.name/);
  t.regex(result.stderr, /apps\[0\]\.routes\[0\]/);
  t.notRegex(result.stderr, /\n\s+at /, "no stack trace");
});

test("serve: SIGHUP reloads the config: apps added, changed and removed without a restart; a broken config keeps the old one", async (t) => {
  const written = writeApp({
    "edgehost.json": config([
      { name: "keep", entry: "keep.ts", routes: ["keep.test"], vars: { GREETING: "v1" } },
      { name: "gone", entry: "gone.ts", routes: ["gone.test"] },
    ]),
    "keep.ts": echoApp("keep"),
    "gone.ts": echoApp("gone"),
    "fresh.ts": echoApp("fresh"),
  });
  t.teardown(written.cleanup);
  const server = await startEdgehostCommand(["serve", "edgehost.json", "--port", "0"], written.dir);
  t.teardown(() => void server.stop());
  const greeting = async (host: string): Promise<string | number> => {
    const response = await get(server, host);
    return response.status === 200 ? (JSON.parse(response.body) as { greeting: string }).greeting : response.status;
  };
  t.is(await greeting("keep.test"), "v1");
  t.is((await get(server, "gone.test")).status, 200);
  writeFileSync(
    join(written.dir, "edgehost.json"),
    config([
      { name: "keep", entry: "keep.ts", routes: ["keep.test"], vars: { GREETING: "v2" } },
      { name: "fresh", entry: "fresh.ts", routes: ["fresh.test"], vars: { GREETING: "new" } },
    ]),
  );
  server.child.kill("SIGHUP");
  await server.waitForOutput(/config reloaded: added fresh; changed keep; removed gone/);
  t.is(await greeting("keep.test"), "v2");
  t.is(await greeting("fresh.test"), "new");
  t.is((await get(server, "gone.test")).status, 404);
  writeFileSync(join(written.dir, "edgehost.json"), "{ \"apps\": [ { \"name\": 1 } ] }");
  server.child.kill("SIGHUP");
  await server.waitForOutput(/config reload failed, still serving the previous config/);
  t.is(await greeting("keep.test"), "v2");
});

test("serve: an app's assets dir is served by the front end before its fetch, with no way out of the dir", async (t) => {
  const server = await withServe(t, {
    "edgehost.json": config([{ name: "site", entry: "site.ts", routes: ["site.test"], assets: "public" }]),
    "site.ts": echoApp("site"),
    "public/index.html": "<h1>home</h1>",
    "public/style.css": "body { color: red }",
    "secret.txt": "outside the assets dir",
  });
  const index = await get(server, "site.test", "/");
  t.is(index.status, 200);
  t.is(index.body, "<h1>home</h1>");
  t.regex(String(index.headers["content-type"]), /^text\/html/);
  const css = await get(server, "site.test", "/style.css");
  t.regex(String(css.headers["content-type"]), /^text\/css/);
  t.truthy(css.headers.etag);
  const cached = await request(`${server.url}/style.css`, { headers: { host: "site.test", "if-none-match": String(css.headers.etag) } });
  t.is(cached.statusCode, 304);
  await cached.body.dump();
  const fallback = JSON.parse((await get(server, "site.test", "/api/x")).body) as { app: string };
  t.is(fallback.app, "site", "no file: the app answers");
  for (const path of ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"]) {
    const response = await get(server, "site.test", path);
    t.false(response.body.includes("outside the assets dir"), path);
  }
});

test("serve: outbound.allow limits the hosts an app may fetch, before any connection and on every redirect hop", async (t) => {
  const { createServer } = await import("node:http");
  let forbiddenHits = 0;
  const forbidden = createServer((_request, response) => {
    forbiddenHits++;
    response.end("forbidden upstream");
  });
  await new Promise<void>((resolve) => forbidden.listen(0, "127.0.0.1", resolve));
  const forbiddenPort = (forbidden.address() as { port: number }).port;
  const allowed = createServer((request, response) => {
    if (request.url === "/redirect") {
      response.writeHead(302, { location: `http://127.0.0.1:${forbiddenPort}/` });
      response.end();
      return;
    }
    response.end("allowed upstream");
  });
  await new Promise<void>((resolve) => allowed.listen(0, "127.0.0.1", resolve));
  const allowedPort = (allowed.address() as { port: number }).port;
  t.teardown(() => {
    forbidden.close();
    allowed.close();
  });
  const fetcher = `
export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("url");
    try {
      const response = await fetch(target);
      return new Response("ok: " + (await response.text()));
    } catch (error) {
      return new Response(String(error) + " / " + String(error.cause ?? ""), { status: 502 });
    }
  },
};
`;
  const server = await withServe(t, {
    "edgehost.json": config([{ name: "client", entry: "client.ts", routes: ["client.test"], limits: { cpuMs: 1000 }, outbound: { allow: ["localhost"], allowPrivate: true } }]),
    "client.ts": fetcher,
  });
  const via = (url: string): Promise<{ status: number; body: string }> => get(server, "client.test", `/?url=${encodeURIComponent(url)}`);
  const ok = await via(`http://localhost:${allowedPort}/`);
  t.is(ok.body, "ok: allowed upstream");
  const direct = await via(`http://127.0.0.1:${forbiddenPort}/`);
  t.is(direct.status, 502);
  t.regex(direct.body, /TypeError/);
  const redirected = await via(`http://localhost:${allowedPort}/redirect`);
  t.is(redirected.status, 502);
  t.is(forbiddenHits, 0, "no connection reached the host outside the allow list");
  t.regex(direct.body, /outbound\.allow/, "the app is told why");
});
