/**
 * The admin listener and observability of `edgehost serve`, end to end: the
 * real CLI, supervisor and front ends; admin API, Prometheus metrics and
 * JSON log lines read over HTTP and from the process's output.
 */
import test from "ava";
import { request } from "undici";
import { startEdgehostCommand, writeApp, type RunningEdgehost } from "./helpers/edgehost-process.js";

const TOKEN = "admin-token-0123456789abcdef";
const SECRET_VALUE = "sekrit-value-9f8e7d";

const app = (name: string): string => `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/spin") { for (;;) {} }
    if (url.pathname === "/log") console.log("hello from " + ${JSON.stringify(name)});
    if (url.pathname === "/work") { let x = 0; for (let i = 0; i < 2e6; i++) x += i; return Response.json({ x }); }
    if (url.pathname === "/missing") return new Response("nope", { status: 404 });
    return Response.json({ app: ${JSON.stringify(name)}, hasKey: typeof env.KEY === "string" });
  },
};
`;

interface Served {
  readonly server: RunningEdgehost;
  /** Base URL of the admin listener. */
  readonly admin: string;
}

const ADMIN_LISTENING = /admin API listening on (http:\/\/[^\s"/]+)\//;

async function withAdmin(t: { teardown: (fn: () => void) => void }, options: { token?: string; apps?: unknown[]; failpoints?: string } = {}): Promise<Served> {
  const apps = options.apps ?? [
    { name: "alpha", entry: "alpha.ts", routes: ["alpha.test"], secrets: { KEY: { env: "ALPHA_KEY" } }, limits: { cpuMs: 1500 } },
    { name: "beta", entry: "beta.ts", routes: ["beta.test"], limits: { cpuMs: 1500 } },
    { name: "tight", entry: "beta.ts", routes: ["tight.test"], limits: { cpuMs: 40 } },
  ];
  const written = writeApp({
    "edgehost.json": JSON.stringify({ listen: { host: "127.0.0.1", port: 0 }, admin: { host: "127.0.0.1", port: 0, tokenEnv: "TEST_ADMIN_TOKEN" }, apps }),
    "alpha.ts": app("alpha"),
    "beta.ts": app("beta"),
  });
  t.teardown(written.cleanup);
  const env: NodeJS.ProcessEnv = { ...process.env, ALPHA_KEY: SECRET_VALUE };
  delete env.TEST_ADMIN_TOKEN;
  if (options.token !== undefined) env.TEST_ADMIN_TOKEN = options.token;
  if (options.failpoints !== undefined) env.EDGEHOST_FAILPOINTS = options.failpoints;
  const server = await startEdgehostCommand(["serve", "edgehost.json", "--port", "0"], written.dir, env);
  t.teardown(() => void server.stop());
  const output = await server.waitForOutput(ADMIN_LISTENING);
  return { server, admin: (ADMIN_LISTENING.exec(output) as RegExpExecArray)[1] as string };
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

async function call(url: string, options: { token?: string; method?: string; host?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.host !== undefined) headers.host = options.host;
  const response = await request(url, { method: (options.method ?? "GET") as "GET", headers });
  return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
}

const errorOf = (reply: Reply): string => (JSON.parse(reply.body) as { error: string }).error;

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}${labels} `)) return Number(line.slice(name.length + labels.length + 1));
  }
  return undefined;
}

test("admin: a missing, wrong or different-length token is 401 with WWW-Authenticate; the right one is let in", async (t) => {
  const { admin } = await withAdmin(t, { token: TOKEN });
  const missing = await call(`${admin}/apps`);
  t.is(missing.status, 401);
  t.is(errorOf(missing), "admin_unauthorized");
  t.regex(String(missing.headers["www-authenticate"]), /^Bearer\b/);
  t.is(missing.headers["content-type"], "application/json");
  const wrong = await call(`${admin}/apps`, { token: TOKEN.replace(/.$/, "X") });
  t.is(wrong.status, 401);
  t.is(errorOf(wrong), "admin_unauthorized");
  const short = await call(`${admin}/apps`, { token: TOKEN.slice(0, 5) });
  t.is(short.status, 401);
  const long = await call(`${admin}/apps`, { token: `${TOKEN}${TOKEN}` });
  t.is(long.status, 401);
  const basic = await request(`${admin}/apps`, { headers: { authorization: `Basic ${TOKEN}` } });
  t.is(basic.statusCode, 401);
  await basic.body.dump();
  const health = await call(`${admin}/healthz`, { token: TOKEN });
  t.is(health.status, 200);
  t.is((await call(`${admin}/healthz`)).status, 401, "even the health check needs the token");
  const apps = await call(`${admin}/apps`, { token: TOKEN });
  t.is(apps.status, 200);
  const unknown = await call(`${admin}/nothing/here`, { token: TOKEN });
  t.is(unknown.status, 404);
  t.is(errorOf(unknown), "admin_not_found");
  const wrongMethod = await call(`${admin}/apps`, { token: TOKEN, method: "DELETE" });
  t.is(wrongMethod.status, 405);
  t.is(errorOf(wrongMethod), "admin_method_not_allowed");
  t.is(wrongMethod.headers.allow, "GET");
});

test("admin: with no token configured (loopback) every request is 403 admin_token_not_configured", async (t) => {
  const { admin } = await withAdmin(t);
  for (const token of [undefined, "", "anything"]) {
    const reply = await call(`${admin}/apps`, token === undefined ? {} : { token });
    t.is(reply.status, 403);
    t.is(errorOf(reply), "admin_token_not_configured");
  }
});

test("admin: /apps lists every app with its stats and limits and never a secret's value; /apps/:name one or 404", async (t) => {
  const { server, admin } = await withAdmin(t, { token: TOKEN });
  const hello = await call(`${server.url}/`, { host: "alpha.test" });
  t.deepEqual(JSON.parse(hello.body), { app: "alpha", hasKey: true });
  const reply = await call(`${admin}/apps`, { token: TOKEN });
  t.is(reply.status, 200);
  t.false(reply.body.includes(SECRET_VALUE), "the secret's value is not in the body");
  const { apps } = JSON.parse(reply.body) as { apps: Array<Record<string, unknown>> };
  t.deepEqual(
    apps.map((entry) => entry.name),
    ["alpha", "beta", "tight"],
  );
  const alpha = apps[0] as Record<string, unknown>;
  t.like(alpha, { name: "alpha", routes: ["alpha.test"], state: "warm", isolates: 1, inFlight: 0, queued: 0, requestsServed: 1 });
  t.true((alpha.heapBytes as number) > 0);
  t.like(alpha.limits, { cpuMs: 1500, memoryMb: 128, concurrency: 64 });
  t.deepEqual(Object.keys(alpha).sort(), ["activeVersion", "heapBytes", "inFlight", "isolates", "limits", "name", "queued", "requestsServed", "routes", "source", "split", "state"]);
  t.like(alpha, { source: "config", activeVersion: null, split: null });
  t.like(apps[1], { name: "beta", state: "cold", isolates: 0, requestsServed: 0, heapBytes: 0 });
  const one = await call(`${admin}/apps/beta`, { token: TOKEN });
  t.is(one.status, 200);
  t.like(JSON.parse(one.body), { name: "beta", state: "cold" });
  const none = await call(`${admin}/apps/gamma`, { token: TOKEN });
  t.is(none.status, 404);
  t.is(errorOf(none), "admin_no_such_app");
  t.false(server.output().includes(SECRET_VALUE), "nor in the log");
});

test("admin: /metrics counts requests by app and status class, latency, CPU, breaches, cold starts and warm isolates", async (t) => {
  const { server, admin } = await withAdmin(t, { token: TOKEN });
  for (let i = 0; i < 3; i++) t.is((await call(`${server.url}/work`, { host: "alpha.test" })).status, 200);
  t.is((await call(`${server.url}/missing`, { host: "alpha.test" })).status, 404);
  t.is((await call(`${server.url}/`, { host: "nobody.test" })).status, 404);
  const spin = await call(`${server.url}/spin`, { host: "tight.test" });
  t.is(spin.status, 503);
  t.is(errorOf(spin), "cpu_limit");
  const reply = await call(`${admin}/metrics`, { token: TOKEN });
  t.is(reply.status, 200);
  t.regex(String(reply.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  const text = reply.body;
  t.is(sample(text, "edgehost_requests_total", '{app="alpha",status_class="2xx"}'), 3);
  t.is(sample(text, "edgehost_requests_total", '{app="alpha",status_class="4xx"}'), 1);
  t.is(sample(text, "edgehost_requests_total", '{app="",status_class="4xx"}'), 1, "a request to no app is counted under app=\"\", not its Host");
  t.false(text.includes("nobody.test"));
  t.is(sample(text, "edgehost_requests_total", '{app="tight",status_class="5xx"}'), 1);
  t.is(sample(text, "edgehost_request_duration_seconds_count", '{app="alpha"}'), 4);
  t.is(sample(text, "edgehost_request_duration_seconds_bucket", '{le="+Inf",app="alpha"}'), 4);
  t.true((sample(text, "edgehost_cpu_milliseconds_total", '{app="alpha"}') ?? 0) > 0, "CPU was charged to alpha");
  t.is(sample(text, "edgehost_limit_breaches_total", '{app="tight",kind="cpu"}'), 1);
  t.is(sample(text, "edgehost_cold_starts_total", '{app="alpha"}'), 1);
  t.is(sample(text, "edgehost_cold_starts_total", '{app="tight"}'), 1);
  // alpha is warm; tight's isolate was recycled by its breach.
  t.is(sample(text, "edgehost_warm_isolates", ""), 1);
  t.is(sample(text, "edgehost_queue_depth", '{app="beta"}'), 0);
  t.true((sample(text, "process_resident_memory_bytes", "") ?? 0) > 0);
  t.not(sample(text, "edgehost_isolate_heap_bytes", ""), undefined);
});

test("admin: the admin port serves no tenant and the main port no admin endpoint", async (t) => {
  const { server, admin } = await withAdmin(t, { token: TOKEN });
  const viaMain = await call(`${server.url}/metrics`, { token: TOKEN, host: "alpha.test" });
  t.is(viaMain.status, 200);
  t.deepEqual(JSON.parse(viaMain.body), { app: "alpha", hasKey: true }, "the main port routes /metrics to the app");
  const unrouted = await call(`${server.url}/apps`, { token: TOKEN, host: "127.0.0.1" });
  t.is(unrouted.status, 404);
  t.is(errorOf(unrouted), "no_route");
  const viaAdmin = await call(`${admin}/`, { token: TOKEN, host: "alpha.test" });
  t.is(viaAdmin.status, 404);
  t.is(errorOf(viaAdmin), "admin_not_found", "the admin port does not route by Host to tenants");
});

test("serve log: a request's record waits for its entry's CPU charge when isolated-vm hands the completion back after the response (failpoint late-pooled-completion)", async (t) => {
  const { server } = await withAdmin(t, { token: TOKEN, failpoints: "late-pooled-completion" });
  // An app's first requests run on isolated-vm's thread pool, not inline.
  for (const path of ["/log?n=1", "/log?n=2"]) t.is((await call(`${server.url}${path}`, { host: "beta.test" })).status, 200);
  const output = await server.waitForOutput(/"path":"\/log".*"msg":"request"[^\n]*\n[^]*"path":"\/log".*"msg":"request"/);
  const records = output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record.msg === "request" && record.path === "/log");
  t.is(records.length, 2);
  // Reported at the setImmediate after the response, as before, these read 0: the charge comes 50 ms later.
  for (const record of records) t.true(typeof record.cpuMs === "number" && record.cpuMs > 0, `cpuMs ${String(record.cpuMs)}`);
});

test("serve log: one JSON record per request (app, status, duration, CPU, request id, method, path without query); console.log is a JSON record with app and request id", async (t) => {
  const { server } = await withAdmin(t, { token: TOKEN });
  const logged = await call(`${server.url}/log?token=abc`, { host: "beta.test" });
  t.is(logged.status, 200);
  const requestId = String(logged.headers["x-request-id"] ?? "");
  t.is((await call(`${server.url}/`, { host: "nobody.test" })).status, 404);
  const output = await server.waitForOutput(/"status":404.*"msg":"request"/);
  const records = output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const requests = records.filter((record) => record.msg === "request");
  t.is(requests.length, 2, "one record per request");
  const [first, second] = requests as [Record<string, unknown>, Record<string, unknown>];
  t.like(first, { level: "info", app: "beta", method: "GET", path: "/log", status: 200 });
  t.is(typeof first.requestId, "string");
  t.true(typeof first.durationMs === "number" && first.durationMs > 0);
  t.true(typeof first.cpuMs === "number" && first.cpuMs > 0);
  t.false(JSON.stringify(first).includes("token=abc"), "no query string");
  t.false("headers" in first);
  t.like(second, { app: null, status: 404, error: "no_route", path: "/" });
  const consoleRecord = records.find((record) => record.source === "console");
  t.like(consoleRecord, { level: "info", app: "beta", msg: "hello from beta", source: "console" });
  t.is(consoleRecord?.requestId, first.requestId);
  if (requestId !== "") t.is(first.requestId, requestId);
});
