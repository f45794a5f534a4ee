/**
 * Live log tails of `edgehost serve`, end to end: the real CLI, supervisor
 * and front end with an admin listener; tails read over real HTTP (and a raw
 * socket for a client that stops reading), and the `edgehost tail` command
 * run as a child process.
 */
import test, { type ExecutionContext } from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { request } from "undici";
import { eventStreamParser, prettyLine } from "../runtime/cli-tail.js";
import { EDGEHOST_BIN, startEdgehostCommand, writeApp, type RunningEdgehost } from "./helpers/edgehost-process.js";

const TOKEN = "tail-admin-token-0123456789";
const SECRET_VALUE = "sekrit-tail-value-5a4b3c";
const QUERY_SECRET = "query-secret-77aa";
const HEADER_SECRET = "header-secret-88bb";
/** One console line of /flood, in characters (the sandbox keeps at most 16,384). */
const FLOOD_LINE_CHARS = 16_000;
/** Console lines per /flood request: 256 KB, within the sandbox's 256 Ki characters per request and 16 times the small tail buffer. */
const FLOOD_LINES = 16;
/** The tail buffer with the `tail-small-buffer` failpoint (log-tail.ts). */
const SMALL_BUFFER_BYTES = 16 * 1024;

const app = (name: string): string => `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/log") console.log("hello from " + ${JSON.stringify(name)});
    if (url.pathname === "/throw") throw new Error("boom in " + ${JSON.stringify(name)});
    if (url.pathname === "/flood") { const line = "x".repeat(${FLOOD_LINE_CHARS}); for (let i = 0; i < ${FLOOD_LINES}; i++) console.log(line); }
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

async function withTailServer(t: ExecutionContext, env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const written = writeApp({
    "edgehost.json": JSON.stringify({
      listen: { host: "127.0.0.1", port: 0 },
      admin: { host: "127.0.0.1", port: 0, tokenEnv: "TEST_ADMIN_TOKEN" },
      apps: [
        { name: "alpha", entry: "alpha.ts", routes: ["alpha.test"], secrets: { KEY: { env: "ALPHA_KEY" } }, limits: { cpuMs: 2000 } },
        { name: "beta", entry: "beta.ts", routes: ["beta.test"], limits: { cpuMs: 2000 } },
      ],
    }),
    "alpha.ts": app("alpha"),
    "beta.ts": app("beta"),
  });
  t.teardown(written.cleanup);
  const server = await startEdgehostCommand(["serve", "edgehost.json", "--port", "0"], written.dir, { ...process.env, ALPHA_KEY: SECRET_VALUE, TEST_ADMIN_TOKEN: TOKEN, ...env });
  t.teardown(() => void server.stop());
  const output = await server.waitForOutput(ADMIN_LISTENING);
  return { server, admin: (ADMIN_LISTENING.exec(output) as RegExpExecArray)[1] as string };
}

interface TailEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** One open tail read over HTTP. */
interface OpenTail {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  readonly events: TailEvent[];
  /** Everything received so far, as text. */
  raw(): string;
  /** The first event (already received or still to come) that `match` accepts. */
  waitFor(match: (event: TailEvent) => boolean, timeoutMs?: number): Promise<TailEvent>;
  /** Resolves when the server ends the response: "end" for a clean end, "error" for a cut one. */
  readonly ended: Promise<"end" | "error">;
  close(): void;
}

function openTail(admin: string, name: string, token: string | undefined = TOKEN): Promise<OpenTail> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const req = httpRequest(`${admin}/apps/${name}/tail`, { headers, agent: false });
    req.once("error", reject);
    req.once("response", (response) => {
      let raw = "";
      const events: TailEvent[] = [];
      const waiters: Array<() => void> = [];
      const feed = eventStreamParser(({ event, data }) => {
        events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        waiters.forEach((wake) => wake());
      });
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        raw += chunk;
        feed(chunk);
      });
      const ended = new Promise<"end" | "error">((resolveEnd) => {
        response.once("end", () => resolveEnd("end"));
        response.once("error", () => resolveEnd("error"));
        response.once("aborted", () => resolveEnd("error"));
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        raw: () => raw,
        ended,
        close: () => req.destroy(),
        waitFor: (match, timeoutMs = 20_000) =>
          new Promise((resolveWait, rejectWait) => {
            const check = (): boolean => {
              const found = events.find(match);
              if (found === undefined) return false;
              clearTimeout(timer);
              resolveWait(found);
              return true;
            };
            const timer = setTimeout(() => rejectWait(new Error(`no matching tail event; received:\n${raw}`)), timeoutMs);
            if (!check()) waiters.push(() => void check());
          }),
      });
    });
    req.end();
  });
}

/** GET from the main port; `requestId` is the one an error reply names (successful replies carry none). */
async function get(server: RunningEdgehost, host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; requestId: string | undefined }> {
  const response = await request(`${server.url}${path}`, { headers: { host, ...headers } });
  const body = (await response.body.json()) as { requestId?: string };
  return { status: response.statusCode, requestId: body.requestId };
}

async function metrics(admin: string): Promise<string> {
  const response = await request(`${admin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return response.body.text();
}

/** The value of one sample line (`name{labels} value`); a gauge with no sample for the labels reads 0. */
function sample(text: string, name: string, labels = ""): number {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}${labels} `)) return Number(line.slice(name.length + labels.length + 1));
  }
  return 0;
}

/** Poll /metrics until `name{labels}` reads `value` (the server's own count; no fixed sleep). */
async function waitForSample(admin: string, name: string, labels: string, value: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = NaN;
  while (Date.now() < deadline) {
    last = sample(await metrics(admin), name, labels);
    if (last === value) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name}${labels} stayed ${last}, expected ${value}`);
}

const errorOf = async (response: { body: { text(): Promise<string> } }): Promise<string> => (JSON.parse(await response.body.text()) as { error: string }).error;

test("tail: a tail gets its app's console lines and request records, in order, and nothing of another app", async (t) => {
  const { server, admin } = await withTailServer(t);
  const tail = await openTail(admin, "alpha");
  t.teardown(() => tail.close());
  t.is(tail.status, 200);
  t.is(tail.headers["content-type"], "text/event-stream; charset=utf-8");
  t.is(tail.headers["cache-control"], "no-store");
  t.is((await get(server, "beta.test", "/log")).status, 200);
  const logged = await get(server, "alpha.test", "/log");
  t.is(logged.status, 200);
  const thrown = await get(server, "alpha.test", "/throw");
  t.is(thrown.status, 500);
  const failed = await tail.waitFor((event) => event.event === "request" && event.data.path === "/throw");
  t.is(failed.data.requestId, thrown.requestId);
  const log = tail.events.find((event) => event.event === "log" && event.data.source === "console");
  t.like(log?.data, { type: "log", level: "log", message: "hello from alpha", source: "console" });
  t.is(typeof log?.data.time, "number");
  const served = tail.events.find((event) => event.event === "request" && event.data.path === "/log");
  t.is(log?.data.requestId, served?.data.requestId, "the console line names its request");
  t.is(typeof served?.data.requestId, "string");
  t.deepEqual(Object.keys(served?.data ?? {}).sort(), ["cpuMs", "durationMs", "method", "path", "requestId", "status", "time", "type"]);
  t.like(served?.data, { type: "request", method: "GET", path: "/log", status: 200 });
  t.true((served?.data.durationMs as number) > 0);
  t.like(failed.data, { method: "GET", path: "/throw", status: 500, error: "app_exception" });
  t.true(
    tail.events.some((event) => event.event === "log" && event.data.source === "edgehost" && String(event.data.message).includes("boom in alpha")),
    "the host's line about the app's exception is in its tail",
  );
  t.true(tail.events.indexOf(log as TailEvent) < tail.events.indexOf(served as TailEvent), "a request's console line comes before its record");
  // beta's request finished before alpha's first: had it leaked, it would be in the stream by now.
  t.false(tail.raw().includes("beta"), "nothing of another app");
});

test("tail: no query string, no header and no secret reaches a tail", async (t) => {
  const { server, admin } = await withTailServer(t);
  const tail = await openTail(admin, "alpha");
  t.teardown(() => tail.close());
  const reply = await get(server, "alpha.test", `/log?token=${QUERY_SECRET}`, { cookie: `session=${HEADER_SECRET}`, authorization: `Bearer ${HEADER_SECRET}` });
  t.is(reply.status, 200);
  const record = await tail.waitFor((event) => event.event === "request" && String(event.data.path).startsWith("/log"));
  t.like(record.data, { method: "GET", path: "/log", status: 200 });
  for (const secret of [QUERY_SECRET, HEADER_SECRET, SECRET_VALUE, "token=", "cookie"]) t.false(tail.raw().includes(secret), `no ${secret}`);
});

test("tail: a missing or wrong token is 401, an unknown app 404 admin_no_such_app, a ninth tail of one app 503 admin_tail_limit", async (t) => {
  const { admin } = await withTailServer(t);
  const missing = await request(`${admin}/apps/alpha/tail`);
  t.is(missing.statusCode, 401);
  t.is(await errorOf(missing), "admin_unauthorized");
  const wrong = await request(`${admin}/apps/alpha/tail`, { headers: { authorization: `Bearer ${TOKEN}x` } });
  t.is(wrong.statusCode, 401);
  t.is(await errorOf(wrong), "admin_unauthorized");
  const unknown = await request(`${admin}/apps/gamma/tail`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.is(unknown.statusCode, 404);
  t.is(await errorOf(unknown), "admin_no_such_app");
  const tails: OpenTail[] = [];
  t.teardown(() => tails.forEach((tail) => tail.close()));
  for (let i = 0; i < 8; i++) tails.push(await openTail(admin, "alpha"));
  t.deepEqual(
    tails.map((tail) => tail.status),
    Array.from({ length: 8 }, () => 200),
  );
  const ninth = await request(`${admin}/apps/alpha/tail`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.is(ninth.statusCode, 503);
  t.is(await errorOf(ninth), "admin_tail_limit");
  const otherApp = await openTail(admin, "beta");
  tails.push(otherApp);
  t.is(otherApp.status, 200, "the cap is per app");
  (tails.shift() as OpenTail).close();
  await waitForSample(admin, "edgehost_tail_subscribers", '{app="alpha"}', 7);
  const again = await openTail(admin, "alpha");
  tails.push(again);
  t.is(again.status, 200, "a closed tail frees its place");
});

test("tail: a client that disconnects is unsubscribed; shutdown ends the open tails cleanly", async (t) => {
  const { server, admin } = await withTailServer(t);
  const first = await openTail(admin, "alpha");
  const second = await openTail(admin, "alpha");
  t.is(sample(await metrics(admin), "edgehost_tail_subscribers", '{app="alpha"}'), 2);
  first.close();
  await waitForSample(admin, "edgehost_tail_subscribers", '{app="alpha"}', 1);
  second.close();
  await waitForSample(admin, "edgehost_tail_subscribers", '{app="alpha"}', 0);
  const open = await openTail(admin, "alpha");
  t.is(open.status, 200);
  const stopped = server.stop();
  t.is(await open.ended, "end", "the stream is ended, not cut");
  t.is((await stopped).code, 0);
});

/** A tail over a raw socket that reads the head and then stops reading. */
async function stalledTail(admin: string): Promise<{ socket: Socket; received: () => string }> {
  const url = new URL(admin);
  const socket = connect(Number(url.port), url.hostname);
  let received = "";
  socket.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("data", (chunk: string) => {
      received += chunk;
      if (received.includes(": edgehost tail")) resolve();
    });
    socket.write(`GET /apps/alpha/tail HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
  });
  socket.pause();
  return { socket, received: () => received };
}

// Memory is asserted on the host's own accounting (the buffered-bytes gauge), not on RSS: a few
// MB of log lines move the front end's RSS by its young generation's size (16 MiB) either way.
// Serial (alone, before the others): uWS closes a response that takes nothing for 10 s while
// data waits, so the floods below must not share the two cores with six other servers.
test.serial("tail: a client that stops reading gets a dropped event, and the front end holds at most the buffer bound for it", async (t) => {
  const { server, admin } = await withTailServer(t, { EDGEHOST_FAILPOINTS: "tail-small-buffer" });
  // Warm the app first: its cold start must not eat into the 10 s below.
  t.is((await get(server, "alpha.test", "/")).status, 200);
  const { socket, received } = await stalledTail(admin);
  t.teardown(() => socket.destroy());
  // Flood until the tail's queue is in use (the socket and kernel buffers are full), then once more, 256 KB past the bound.
  // Quickly: uWS closes a response that takes nothing for 10 s while data waits.
  let floods = 0;
  while (sample(await metrics(admin), "edgehost_tail_buffered_bytes") === 0 && floods < 150) {
    t.is((await get(server, "alpha.test", "/flood")).status, 200);
    floods++;
  }
  t.is((await get(server, "alpha.test", "/flood")).status, 200);
  const held = sample(await metrics(admin), "edgehost_tail_buffered_bytes");
  t.true(held > 0 && held <= SMALL_BUFFER_BYTES + 256, `held ${held} bytes for the stalled tail`);
  const loggedBytes = (floods + 1) * FLOOD_LINES * FLOOD_LINE_CHARS;
  t.is(server.child.exitCode, null, "the front end kept serving");
  // Read again: what was queued comes, then the count of what was not.
  socket.resume();
  const droppedEvent = await waitForReceived(socket, received, /event: dropped\ndata: (\{[^\n]*\})\n/);
  const dropped = (JSON.parse(droppedEvent[1] as string) as { dropped: number }).dropped;
  t.true(dropped > 0, `dropped ${dropped}`);
  t.true(received().length < loggedBytes, "records past the bound were not sent");
  // The tail keeps working after the drop.
  t.is((await get(server, "alpha.test", "/after")).status, 200);
  const next = await waitForReceived(socket, received, /event: request\ndata: (\{[^\n]*"path":"\/after"[^\n]*\})\n/);
  t.like(JSON.parse(next[1] as string), { method: "GET", status: 200 });
});

/** Resolve with the match once `pattern` appears in what the socket received (rejects after 30 s). */
function waitForReceived(socket: Socket, received: () => string, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${pattern} not in the ${received().length} bytes received`)), 30_000);
    const check = (): void => {
      const match = pattern.exec(received());
      if (match === null) return;
      clearTimeout(timer);
      socket.off("data", check);
      resolve(match);
    };
    socket.on("data", check);
    check();
  });
}

test("tail CLI: a pretty line escapes control characters, so a record cannot print as two lines or drive the terminal", (t) => {
  const time = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  t.is(prettyLine("log", { time, level: "warn", message: "one\ntwo \u001b[31mred\u202e" }), "2026-01-02T03:04:05.006Z warn one\\ntwo \\x1b[31mred\\u202e");
  t.is(prettyLine("request", { time, status: 503, method: "GET", path: "/a\r\nb", durationMs: 1.5, error: "cpu_limit" }), "2026-01-02T03:04:05.006Z 503 GET /a\\r\\nb 1.5ms cpu_limit");
  t.is(prettyLine("dropped", { time, dropped: 7 }), "2026-01-02T03:04:05.006Z dropped 7 records (the tail fell behind)");
  t.is(prettyLine("other", { time }), undefined);
});

test("tail CLI: the event-stream parser takes events split across chunks, CRLF line ends and comments", (t) => {
  const events: Array<{ event: string; data: string }> = [];
  const feed = eventStreamParser((event) => events.push(event));
  for (const chunk of [": hello\r\n\r\nevent: lo", "g\r\ndata: {\"a\":1}\r", "\n\r\n", "data: x\ndata: y\n\n"]) feed(chunk);
  t.deepEqual(events, [
    { event: "log", data: '{"a":1}' },
    { event: "message", data: "x\ny" },
  ]);
});

interface CliRun {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

function runTailCli(args: readonly string[], env: NodeJS.ProcessEnv): CliRun {
  const child = spawn(process.execPath, [EDGEHOST_BIN, "tail", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

const cliEnv = (token: string | undefined): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.EDGEHOST_ADMIN_TOKEN;
  if (token !== undefined) env.EDGEHOST_ADMIN_TOKEN = token;
  return env;
};

test("tail CLI: edgehost tail prints one pretty line per request and log line, and exits 0 on SIGINT", async (t) => {
  const { server, admin } = await withTailServer(t);
  const cli = runTailCli(["alpha", "--admin", admin], cliEnv(TOKEN));
  t.teardown(() => cli.child.kill("SIGKILL"));
  await waitForSample(admin, "edgehost_tail_subscribers", '{app="alpha"}', 1);
  t.is((await get(server, "alpha.test", "/log?token=abc")).status, 200);
  const deadline = Date.now() + 20_000;
  const requestLine = /^\d{4}-\d\d-\d\dT[\d:.]+Z 200 GET \/log \d+(\.\d+)?ms$/m;
  while (!requestLine.test(cli.stdout()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.regex(cli.stdout(), requestLine);
  t.regex(cli.stdout(), /^\S+Z log hello from alpha$/m);
  t.false(cli.stdout().includes("token=abc"));
  cli.child.kill("SIGINT");
  t.is(await cli.exited, 0);
  await waitForSample(admin, "edgehost_tail_subscribers", '{app="alpha"}', 0);
});

test("tail CLI: a missing token, a wrong token, an unknown app and a refused connection are one-line errors with status 1", async (t) => {
  const { admin } = await withTailServer(t);
  const missing = runTailCli(["alpha", "--admin", admin], cliEnv(undefined));
  t.is(await missing.exited, 1);
  t.regex(missing.stderr(), /^edgehost: error: edgehost tail needs the admin token in EDGEHOST_ADMIN_TOKEN/);
  const wrong = runTailCli(["alpha", "--admin", admin], cliEnv("nope"));
  t.is(await wrong.exited, 1);
  t.regex(wrong.stderr(), /401 admin_unauthorized/);
  const unknown = runTailCli(["gamma", "--admin", admin], cliEnv(TOKEN));
  t.is(await unknown.exited, 1);
  t.regex(unknown.stderr(), /no app named "gamma" \(404 admin_no_such_app\)/);
  // A port that was just listening and is closed now: nothing accepts there.
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const refused = runTailCli(["alpha", "--admin", `http://127.0.0.1:${closedPort}`], cliEnv(TOKEN));
  t.is(await refused.exited, 1);
  t.true(refused.stderr().includes(`cannot reach the admin API at http://127.0.0.1:${closedPort}: connection refused`), refused.stderr());
  for (const run of [missing, wrong, unknown, refused]) t.is(run.stderr().trim().split("\n").length, 1, "one line");
});
