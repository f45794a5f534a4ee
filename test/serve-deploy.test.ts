/**
 * Live deploys through the admin API of `edgehost serve`, end to end: the
 * real CLI, supervisor and front ends, uploads built confined, versions
 * stored under the data directory, requests over real HTTP.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { request } from "undici";
import { EDGEHOST_BIN, startEdgehostCommand, writeApp, type RunningEdgehost } from "./helpers/edgehost-process.js";
import { RawConnection } from "./helpers/raw-http.js";

const TOKEN = "deploy-token-0123456789abcdef";
/** Longer than any answer takes on a loaded machine (a deploy builds and boots), far shorter than ava's 2-minute timeout. */
const REQUEST_DEADLINE_MS = 45_000;
const ADMIN_LISTENING = /admin API listening on (http:\/\/[^\s"/]+)\//;

interface Served {
  readonly server: RunningEdgehost;
  readonly admin: string;
  readonly dir: string;
}

const configApp = `export default { fetch() { return new Response("config entry"); } };\n`;

function config(extraApps: unknown[] = []): string {
  return JSON.stringify({
    listen: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0, tokenEnv: "TEST_ADMIN_TOKEN" },
    apps: [{ name: "shop", entry: "shop.ts", routes: ["shop.test"], limits: { cpuMs: 2000 } }, ...extraApps],
  });
}

async function startServe(t: ExecutionContext, dir?: string): Promise<Served> {
  let cwd = dir;
  if (cwd === undefined) {
    const written = writeApp({ "edgehost.json": config(), "shop.ts": configApp, "other.ts": configApp });
    t.teardown(written.cleanup);
    cwd = written.dir;
  }
  const server = await startEdgehostCommand(["serve", "edgehost.json", "--port", "0"], cwd, { ...process.env, TEST_ADMIN_TOKEN: TOKEN });
  t.teardown(() => void server.stop());
  const output = await server.waitForOutput(ADMIN_LISTENING);
  return { server, admin: (ADMIN_LISTENING.exec(output) as RegExpExecArray)[1] as string, dir: cwd };
}

interface Reply {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly text: string;
}

async function admin(served: Served, method: string, path: string, body?: unknown): Promise<Reply> {
  const response = await request(`${served.admin}${path}`, {
    // A lost answer fails the test with its path instead of hanging it until ava's timeout.
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
    method: method as "GET",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON; the test looks at text.
  }
  return { status: response.statusCode, json, text };
}

async function get(served: Served, host: string, path = "/", headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await request(`${served.server.url}${path}`, { headers: { ...headers, host }, signal: AbortSignal.timeout(REQUEST_DEADLINE_MS) });
  return { status: response.statusCode, text: await response.body.text() };
}

/** A two-file upload whose fetch answers `text` (after `delayMs`, so that requests are inside it when a deploy lands). */
function upload(text: string, extra: Record<string, unknown> = {}, delayMs = 0): Record<string, unknown> {
  const wait = delayMs > 0 ? `await new Promise((resolve) => setTimeout(resolve, ${delayMs})); ` : "";
  return {
    entry: "src/app.ts",
    files: {
      "src/app.ts": `import { text } from "./text.ts";\nexport default { async fetch() { ${wait}return new Response(text); } };\n`,
      "src/text.ts": `export const text = ${JSON.stringify(text)};\n`,
    },
    ...extra,
  };
}

const versionId = (reply: Reply): string => (reply.json.version as { id: string }).id;

test("deploy: an upload to a config app is built, booted and served; rollback returns to the previous version; both survive a restart", async (t) => {
  const served = await startServe(t);
  t.is((await get(served, "shop.test")).text, "config entry");
  const one = await admin(served, "POST", "/apps/shop/versions", upload("v1", { note: "first" }));
  t.is(one.status, 201, one.text);
  t.like(one.json, { app: "shop", active: true });
  t.is((await get(served, "shop.test")).text, "v1");
  const two = await admin(served, "POST", "/apps/shop/versions", upload("v2"));
  t.is(two.status, 201, two.text);
  t.is((await get(served, "shop.test")).text, "v2");
  const stats = await admin(served, "GET", "/apps/shop");
  t.like(stats.json, { name: "shop", source: "deployed", activeVersion: versionId(two) });
  const listed = await admin(served, "GET", "/apps/shop/versions");
  t.like(listed.json, { app: "shop", active: versionId(two), previous: versionId(one) });
  t.is((listed.json.versions as unknown[]).length, 2);
  const back = await admin(served, "POST", "/apps/shop/rollback");
  t.is(back.status, 200, back.text);
  t.is((back.json.active as { id: string }).id, versionId(one));
  t.is((await get(served, "shop.test")).text, "v1");
  // The store is on disk under the data directory; a new server serves what was active.
  t.true(existsSync(join(served.dir, ".edgehost", "manifest.json")));
  await served.server.stop();
  const again = await startServe(t, served.dir);
  t.is((await get(again, "shop.test")).text, "v1", "the rolled-back version serves after a restart");
  t.is((await admin(again, "POST", "/apps/shop/rollback")).status, 200);
  t.is((await get(again, "shop.test")).text, "v2", "a second rollback undoes the first");
});

test("deploy: a new app needs routes, gets them, is listed, and DELETE removes it (404 no_route after); a config app cannot be removed", async (t) => {
  const served = await startServe(t);
  const noRoutes = await admin(served, "POST", "/apps/blog/versions", upload("blog"));
  t.is(noRoutes.status, 400);
  t.is(noRoutes.json.error, "admin_bad_request");
  t.regex(String(noRoutes.json.message), /routes/);
  const taken = await admin(served, "POST", "/apps/blog/versions", upload("blog", { routes: ["shop.test"] }));
  t.is(taken.status, 409, "a route another app has");
  t.is(taken.json.error, "admin_conflict");
  const created = await admin(served, "POST", "/apps/blog/versions", upload("blog v1", { routes: ["blog.test", "example.test/blog/"] }));
  t.is(created.status, 201, created.text);
  t.is((await get(served, "blog.test")).text, "blog v1");
  t.is((await get(served, "example.test", "/blog/post")).text, "blog v1");
  t.is((await get(served, "example.test", "/other")).status, 404);
  const apps = await admin(served, "GET", "/apps");
  t.deepEqual(
    (apps.json.apps as Array<{ name: string }>).map((app) => app.name),
    ["shop", "blog"],
  );
  const configRemove = await admin(served, "DELETE", "/apps/shop");
  t.is(configRemove.status, 409);
  t.is(configRemove.json.error, "admin_conflict");
  t.regex((await admin(served, "GET", "/metrics")).text, /edgehost_requests_total\{app="blog",status_class="2xx"\} 2/);
  const removed = await admin(served, "DELETE", "/apps/blog");
  t.is(removed.status, 200, removed.text);
  t.notRegex((await admin(served, "GET", "/metrics")).text, /app="blog"/, "a removed app's series go with it");
  const gone = await get(served, "blog.test");
  t.is(gone.status, 404);
  t.regex(gone.text, /no_route/);
  t.is((await admin(served, "GET", "/apps/blog")).status, 404);
  t.is((await admin(served, "DELETE", "/apps/blog")).status, 404);
});

test("deploy: a failing build or top-level error answers 422 with the error and leaves the old version serving and the store unchanged", async (t) => {
  const served = await startServe(t);
  const good = await admin(served, "POST", "/apps/shop/versions", upload("good"));
  t.is(good.status, 201, good.text);
  const syntax = await admin(served, "POST", "/apps/shop/versions", { entry: "app.ts", files: { "app.ts": "export default { fetch( {" } });
  t.is(syntax.status, 422);
  t.is(syntax.json.error, "admin_build_failed");
  t.regex(String(syntax.json.message), /app\.ts/);
  const throws = await admin(served, "POST", "/apps/shop/versions", { entry: "app.ts", files: { "app.ts": 'throw new Error("boom at top level");\nexport default { fetch() { return new Response("never"); } };\n' } });
  t.is(throws.status, 422);
  t.is(throws.json.error, "admin_boot_failed");
  t.regex(String(throws.json.message), /boom at top level/);
  const noFetch = await admin(served, "POST", "/apps/shop/versions", { bundle: "var __edgehost_app = { default: {} };\n" });
  t.is(noFetch.status, 422);
  t.is(noFetch.json.error, "admin_boot_failed");
  t.is((await get(served, "shop.test")).text, "good");
  const listed = await admin(served, "GET", "/apps/shop/versions");
  t.is((listed.json.versions as unknown[]).length, 1, "failed versions are not kept");
  t.is(listed.json.active, versionId(good));
});

test("deploy: an upload's build reads only its own files: relative escapes, absolute paths and another tenant's upload are refused", async (t) => {
  const served = await startServe(t);
  const other = await admin(served, "POST", "/apps/other/versions", upload("other secret", { routes: ["other.test"] }));
  t.is(other.status, 201, other.text);
  const otherFile = join(served.dir, ".edgehost", "uploads", versionId(other), "src", "text.ts");
  t.true(existsSync(otherFile), "the other tenant's upload is on disk");
  const attempts = {
    relative: 'import text from "../../../../../../../../etc/hostname";\nexport default { fetch() { return new Response(text); } };\n',
    absolute: `import { text } from ${JSON.stringify(otherFile)};\nexport default { fetch() { return new Response(text); } };\n`,
    hostPackage: 'import * as vm from "isolated-vm";\nexport default { fetch() { return new Response(String(vm)); } };\n',
  };
  for (const [name, source] of Object.entries(attempts)) {
    const reply = await admin(served, "POST", "/apps/shop/versions", { entry: "app.ts", files: { "app.ts": source } });
    t.is(reply.status, 422, `${name}: ${reply.text}`);
    t.is(reply.json.error, "admin_build_failed", name);
    t.false(reply.text.includes("other secret"), name);
  }
  const traversal = await admin(served, "POST", "/apps/shop/versions", { entry: "../x.ts", files: { "../x.ts": "export default {}" } });
  t.is(traversal.status, 400);
  t.is(traversal.json.error, "admin_bad_request");
  t.is((await get(served, "shop.test")).text, "config entry");
});

test("deploy: a split sends a share of requests to a stored version; clearing it and activating a version work", async (t) => {
  const served = await startServe(t);
  const one = await admin(served, "POST", "/apps/shop/versions", upload("one"));
  const two = await admin(served, "POST", "/apps/shop/versions", upload("two", { activate: false }));
  t.is(two.status, 201, two.text);
  t.is(two.json.active, false);
  t.is((await get(served, "shop.test")).text, "one", "a stored version does not serve");
  const split = await admin(served, "PUT", "/apps/shop/split", { version: versionId(two), percent: 30 });
  t.is(split.status, 200, split.text);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 300; i++) {
    const { text } = await get(served, "shop.test");
    counts[text] = (counts[text] ?? 0) + 1;
  }
  t.deepEqual(Object.keys(counts).sort(), ["one", "two"]);
  // 300 draws at 30%: 90 expected; below 45 or above 150 has odds under 1e-9.
  t.true((counts.two ?? 0) > 45 && (counts.two ?? 0) < 150, JSON.stringify(counts));
  t.like((await admin(served, "GET", "/apps/shop")).json, { split: { versionId: versionId(two), percent: 30 } });
  // Version affinity: a client sending the same key always gets the same side of the split.
  const sideOf = new Map<string, string>();
  for (let client = 0; client < 60; client++) {
    const key = `client-${client}`;
    const sides = new Set<string>();
    for (let i = 0; i < 4; i++) sides.add((await get(served, "shop.test", "/", { "edgehost-version-key": key })).text);
    t.is(sides.size, 1, `key ${key} was served by ${[...sides].join(" and ")}`);
    sideOf.set(key, [...sides][0] as string);
  }
  // 60 keys at 30%: 18 expected on the canary; none or all of them has odds under 1e-9.
  const keysOnCanary = [...sideOf.values()].filter((side) => side === "two").length;
  t.true(keysOnCanary > 0 && keysOnCanary < 60, `${keysOnCanary} of 60 keys on the canary`);
  // Widening the split moves keys onto the canary, never back.
  t.is((await admin(served, "PUT", "/apps/shop/split", { version: versionId(two), percent: 60 })).status, 200);
  for (const [key, side] of sideOf) {
    if (side === "two") t.is((await get(served, "shop.test", "/", { "edgehost-version-key": key })).text, "two", `key ${key} left the canary`);
  }
  const badPercent = await admin(served, "PUT", "/apps/shop/split", { version: versionId(two), percent: 150 });
  t.is(badPercent.status, 400);
  const selfSplit = await admin(served, "PUT", "/apps/shop/split", { version: versionId(one), percent: 10 });
  t.is(selfSplit.status, 409);
  const unknown = await admin(served, "PUT", "/apps/shop/split", { version: "nope", percent: 10 });
  t.is(unknown.status, 404);
  t.is(unknown.json.error, "admin_no_such_version");
  t.is((await admin(served, "DELETE", "/apps/shop/split")).status, 200);
  for (let i = 0; i < 20; i++) t.is((await get(served, "shop.test")).text, "one");
  const activated = await admin(served, "POST", `/apps/shop/versions/${versionId(two)}/activate`);
  t.is(activated.status, 200, activated.text);
  t.is((await get(served, "shop.test")).text, "two");
});

/** An API app that shows its env, spins 150 ms on /spin and fetches a host not on any allow list on /fetch. */
function settingsApp(): Record<string, unknown> {
  return {
    entry: "app.ts",
    files: {
      "app.ts": `export default { async fetch(request, env) {
  const path = new URL(request.url).pathname;
  if (path === "/spin") { const end = Date.now() + 150; while (Date.now() < end) {} return new Response("spun"); }
  if (path === "/fetch") { try { await fetch("https://blocked.example/"); return new Response("fetched"); } catch (error) { return new Response("refused: " + error.message); } }
  return new Response("MODE=" + env.MODE);
} };\n`,
    },
  };
}

test("deploy: an API app's settings (vars, limits, outbound allow list) apply, update field by field, are checked, survive a restart; a config app's come from the file", async (t) => {
  const served = await startServe(t);
  const plain = await admin(served, "POST", "/apps/tenant-a/versions", { ...settingsApp(), routes: ["a.test"] });
  t.is(plain.status, 201, plain.text);
  t.is((await get(served, "a.test")).text, "MODE=undefined");
  const settings = { vars: { MODE: "one" }, limits: { cpuMs: 40 }, outbound: { allow: ["api.example.com"] } };
  const first = await admin(served, "POST", "/apps/tenant-a/versions", { ...settingsApp(), settings });
  t.is(first.status, 201, first.text);
  t.is((await get(served, "a.test")).text, "MODE=one");
  const spin = await get(served, "a.test", "/spin");
  t.is(spin.status, 503, "cpuMs 40 cuts the 150 ms spin off");
  t.regex(spin.text, /cpu_limit/);
  t.regex((await get(served, "a.test", "/fetch")).text, /^refused: .*blocked\.example/, "a host off the allow list is refused in the isolate");
  // Only vars sent: the stored limits and allow list stay.
  const second = await admin(served, "POST", "/apps/tenant-a/versions", { ...settingsApp(), settings: { vars: { MODE: "two" } } });
  t.is(second.status, 201, second.text);
  t.is((await get(served, "a.test")).text, "MODE=two");
  t.is((await get(served, "a.test", "/spin")).status, 503, "the limits were kept");
  const listed = await admin(served, "GET", "/apps/tenant-a/versions");
  t.deepEqual(listed.json.settings, { vars: { MODE: "two" }, limits: { cpuMs: 40 }, outbound: { allow: ["api.example.com"] } });
  for (const [bad, expected] of [
    [{ limits: { cpuMs: -1 } }, /settings\.limits\.cpuMs/],
    [{ limits: { memoryMb: 1_000_000 } }, /settings\.limits\.memoryMb/],
    [{ limits: { memoryMb: 8192 } }, /settings\.limits\.memoryMb: 8192 MB exceeds cache\.maxMemoryMb \(4096\)/],
    [{ vars: { MODE: 7 } }, /settings\.vars\.MODE/],
    [{ outbound: { allow: ["https://api.example.com/"] } }, /settings\.outbound\.allow\[0\]/],
    [{ secrets: { KEY: "x" } }, /secrets/],
  ] as const) {
    const refused = await admin(served, "POST", "/apps/tenant-a/versions", { ...settingsApp(), settings: bad });
    t.is(refused.status, 400, JSON.stringify(bad));
    t.regex(String(refused.json.message), expected);
  }
  t.is((await get(served, "a.test")).text, "MODE=two", "refused settings changed nothing");
  // A failed boot with new settings leaves the stored ones as they were.
  const broken = await admin(served, "POST", "/apps/tenant-a/versions", { entry: "app.ts", files: { "app.ts": 'throw new Error("boom");\n' }, settings: { vars: { MODE: "broken" } } });
  t.is(broken.status, 422, broken.text);
  t.deepEqual((await admin(served, "GET", "/apps/tenant-a/versions")).json.settings, listed.json.settings);
  t.is((await get(served, "a.test")).text, "MODE=two");
  const onConfigApp = await admin(served, "POST", "/apps/shop/versions", { ...upload("shop"), settings: { vars: { MODE: "x" } } });
  t.is(onConfigApp.status, 400);
  t.regex(String(onConfigApp.json.message), /config file/);
  await served.server.stop();
  const again = await startServe(t, served.dir);
  t.is((await get(again, "a.test")).text, "MODE=two", "settings survive a restart");
  t.is((await get(again, "a.test", "/spin")).status, 503);
});

test("deploy: while another process holds the data directory's lock a change waits, then answers 503 admin_busy and changes nothing; once it is released the deploy lands", async (t) => {
  const served = await startServe(t);
  t.is((await admin(served, "POST", "/apps/shop/versions", upload("one"))).status, 201);
  // As the other front end of a hand-over would hold it: a live pid (this test's parent, ava's main process).
  const lockFile = join(served.dir, ".edgehost", "manifest.lock");
  writeFileSync(lockFile, `${process.ppid}\n`);
  const manifestBefore = readFileSync(join(served.dir, ".edgehost", "manifest.json"), "utf8");
  const busy = await admin(served, "POST", "/apps/shop/versions", upload("two"));
  t.is(busy.status, 503, busy.text);
  t.is(busy.json.error, "admin_busy");
  t.regex(String(busy.json.message), /manifest\.lock/);
  t.is(readFileSync(join(served.dir, ".edgehost", "manifest.json"), "utf8"), manifestBefore);
  t.is((await get(served, "shop.test")).text, "one");
  rmSync(lockFile);
  t.is((await admin(served, "POST", "/apps/shop/versions", upload("two"))).status, 201);
  t.is((await get(served, "shop.test")).text, "two");
});

test("deploy: under load no request is lost or fails; each answer comes from one whole version", async (t) => {
  const served = await startServe(t);
  t.is((await admin(served, "POST", "/apps/shop/versions", upload("v0", {}, 30))).status, 201);
  let stop = false;
  const seen: Record<string, number> = {};
  let failures = 0;
  let sent = 0;
  const client = async (): Promise<void> => {
    while (!stop) {
      sent++;
      try {
        const { status, text } = await get(served, "shop.test");
        if (status !== 200) failures++;
        seen[text] = (seen[text] ?? 0) + 1;
      } catch (error) {
        failures++;
        // A request with no answer within the deadline is one the deploy lost: say so.
        const name = error instanceof Error ? error.name : "error";
        seen[name] = (seen[name] ?? 0) + 1;
      }
    }
  };
  const clients = Array.from({ length: 8 }, () => client());
  for (let i = 1; i <= 4; i++) {
    const reply = await admin(served, "POST", "/apps/shop/versions", upload(`v${i}`, {}, 30));
    t.is(reply.status, 201, reply.text);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  stop = true;
  await Promise.all(clients);
  t.is(failures, 0, JSON.stringify(seen));
  const answered = Object.values(seen).reduce((sum, count) => sum + count, 0);
  t.is(answered, sent, "every request was answered");
  t.true(Object.keys(seen).every((text) => /^v[0-4]$/.test(text)), JSON.stringify(seen));
  t.true((seen.v4 ?? 0) > 0, "the last version serves at the end");
  t.is((await get(served, "shop.test")).text, "v4");
});

test("deploy: a front end that takes over (the standby) serves what the admin API deployed", async (t) => {
  const served = await startServe(t);
  await served.server.waitForOutput(/standby front end \d+ ready/);
  t.is((await admin(served, "POST", "/apps/shop/versions", upload("deployed before the crash"))).status, 201);
  t.is((await admin(served, "POST", "/apps/blog/versions", upload("blog", { routes: ["blog.test"] }))).status, 201);
  t.is((await admin(served, "POST", "/apps/tenant-a/versions", { ...settingsApp(), routes: ["a.test"], settings: { vars: { MODE: "one" } } })).status, 201);
  // Changed settings replace the standby's tenant too.
  t.is((await admin(served, "POST", "/apps/tenant-a/versions", { ...settingsApp(), settings: { vars: { MODE: "two" } } })).status, 201);
  process.kill(served.server.frontEndPid, "SIGKILL");
  await served.server.waitForOutput(/front end \d+ (?:exited|died|was killed).*|promot/i);
  let text = "";
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      text = (await get(served, "shop.test")).text;
      if (text === "deployed before the crash") break;
    } catch {
      // The gap before the standby listens.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.is(text, "deployed before the crash");
  t.is((await get(served, "blog.test")).text, "blog");
  t.is((await get(served, "a.test")).text, "MODE=two", "the API app's settings as last deployed");
});

test("admin: bad bodies are 400 with a message, oversized ones 413; POST /reload applies the config file and reports a broken one", async (t) => {
  const served = await startServe(t);
  const notJson = await admin(served, "POST", "/apps/shop/versions", "{nope");
  t.is(notJson.status, 400);
  t.is(notJson.json.error, "admin_bad_request");
  const both = await admin(served, "POST", "/apps/shop/versions", { bundle: "x", files: {}, entry: "a.ts" });
  t.is(both.status, 400);
  const unknownField = await admin(served, "POST", "/apps/shop/versions", { bundle: "x", extra: 1 });
  t.is(unknownField.status, 400);
  // A declared 200 MiB body is refused from its head, before any of it is read or allocated.
  const connection = new RawConnection(Number(new URL(served.admin).port));
  t.teardown(() => connection.destroy());
  await connection.send(`POST /apps/shop/versions HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n{"bundle":"`);
  const huge = await connection.nextResponse();
  t.is(huge.status, 413);
  t.is((JSON.parse(huge.body.toString("utf8")) as { error: string }).error, "admin_body_too_large");
  writeFileSync(join(served.dir, "edgehost.json"), config([{ name: "extra", entry: "other.ts", routes: ["extra.test"] }]));
  const reloaded = await admin(served, "POST", "/reload");
  t.is(reloaded.status, 200, reloaded.text);
  t.deepEqual(reloaded.json.added, ["extra"]);
  t.is((await get(served, "extra.test")).text, "config entry");
  writeFileSync(join(served.dir, "edgehost.json"), '{"apps": [{"name": "Bad Name"}]}');
  const broken = await admin(served, "POST", "/reload");
  t.is(broken.status, 422);
  t.is(broken.json.error, "admin_reload_failed");
  t.regex(String(broken.json.message), /apps/);
  t.is((await get(served, "extra.test")).text, "config entry", "the running config stays");
  t.true(readFileSync(join(served.dir, "edgehost.json"), "utf8").includes("Bad Name"));
});

/** Runs the CLI to completion with the admin token (or none) in its environment. */
function cli(args: readonly string[], cwd: string, tokenValue: string | null = TOKEN): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.EDGEHOST_ADMIN_TOKEN;
  if (tokenValue !== null) env.EDGEHOST_ADMIN_TOKEN = tokenValue;
  return new Promise((resolve) => {
    execFile(process.execPath, [EDGEHOST_BIN, ...args], { cwd, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
    });
  });
}

test("cli: edgehost deploy uploads an app's source files (imports included) and edgehost rollback goes back; errors are one clear line", async (t) => {
  const served = await startServe(t);
  const project = writeApp({
    "src/app.ts": 'import { greeting } from "./lib/greeting.ts";\nexport default { fetch() { return new Response(greeting("cli")); } };\n',
    "src/lib/greeting.ts": 'export const greeting = (who: string): string => "hello " + who + " v1";\n',
    "unrelated.txt": "not imported, not uploaded",
  });
  t.teardown(project.cleanup);
  const first = await cli(["deploy", "shop", "src/app.ts", "--admin", served.admin, "--note", "from the cli"], project.dir);
  // A refusal shows the server side too (the CLI prints only the error name).
  if (first.code !== 0) t.log(served.server.output().split("\n").filter((line) => /error/.test(line)).join("\n"));
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /^edgehost: deployed shop version [0-9a-f-]{36} \(2 files\)\n$/);
  t.is((await get(served, "shop.test")).text, "hello cli v1");
  writeFileSync(join(project.dir, "src/lib/greeting.ts"), 'export const greeting = (who: string): string => "hello " + who + " v2";\n');
  t.is((await cli(["deploy", "shop", "src/app.ts", "--admin", served.admin], project.dir)).code, 0);
  t.is((await get(served, "shop.test")).text, "hello cli v2");
  const back = await cli(["rollback", "shop", "--admin", served.admin], project.dir);
  t.is(back.code, 0, back.stderr);
  t.regex(back.stdout, /^edgehost: rolled shop back to version /);
  t.is((await get(served, "shop.test")).text, "hello cli v1");
  const versions = await admin(served, "GET", "/apps/shop/versions");
  t.is((versions.json.versions as Array<{ note?: string }>)[0]?.note, "from the cli");

  const newApp = await cli(["deploy", "fresh", "src/app.ts", "--admin", served.admin, "--route", "fresh.test"], project.dir);
  t.is(newApp.code, 0, newApp.stderr);
  t.is((await get(served, "fresh.test")).text, "hello cli v2", "the files as they are now");
  writeFileSync(join(project.dir, "src/env.ts"), 'export default { fetch(request, env) { return new Response("MODE=" + env.MODE); } };\n');
  const withSettings = await cli(["deploy", "envapp", "src/env.ts", "--admin", served.admin, "--route", "env.test", "--var", "MODE=cli", "--limit", "cpuMs=40", "--allow", "api.example.com"], project.dir);
  t.is(withSettings.code, 0, withSettings.stderr);
  t.is((await get(served, "env.test")).text, "MODE=cli");
  t.deepEqual((await admin(served, "GET", "/apps/envapp/versions")).json.settings, { vars: { MODE: "cli" }, limits: { cpuMs: 40 }, outbound: { allow: ["api.example.com"] } });
  const badLimit = await cli(["deploy", "envapp", "src/env.ts", "--admin", served.admin, "--limit", "cpuMs=-5"], project.dir);
  t.is(badLimit.code, 1);
  t.regex(badLimit.stderr, /400 admin_bad_request: settings\.limits\.cpuMs/);

  const noToken = await cli(["rollback", "shop", "--admin", served.admin], project.dir, null);
  t.is(noToken.code, 1);
  t.regex(noToken.stderr, /^edgehost: error: set EDGEHOST_ADMIN_TOKEN/);
  const wrongToken = await cli(["rollback", "shop", "--admin", served.admin], project.dir, "wrong");
  t.is(wrongToken.code, 1);
  t.regex(wrongToken.stderr, /answered 401 admin_unauthorized/);
  const noPrevious = await cli(["rollback", "fresh", "--admin", served.admin], project.dir);
  t.is(noPrevious.code, 1);
  t.regex(noPrevious.stderr, /409 admin_conflict: app fresh has no previous version/);
  writeFileSync(join(project.dir, "src/broken.ts"), "export default { fetch( {\n");
  const broken = await cli(["deploy", "shop", "src/broken.ts", "--admin", served.admin], project.dir);
  t.is(broken.code, 1);
  t.regex(broken.stderr, /^edgehost: error: .*broken\.ts/);
  const closedPort = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const unreachable = await cli(["rollback", "shop", "--admin", `http://127.0.0.1:${closedPort}`], project.dir);
  t.is(unreachable.code, 1);
  t.regex(unreachable.stderr, new RegExp(`cannot reach the admin API at http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED`));
  t.is((await get(served, "shop.test")).text, "hello cli v1", "nothing the failures did changed what serves");
});
