import path from "node:path";
import test from "ava";
import { DEFAULT_APP_LIMITS, loadServeConfig, type ServeConfig } from "../runtime/config/index.js";
import { app, configDir, expectConfigError, writeConfig } from "./helpers/config-fixtures.js";

const FULL = {
  $schema: "./edgehost.schema.json",
  listen: { host: "0.0.0.0", port: 8080 },
  admin: { host: "127.0.0.1", port: 9090, tokenEnv: "MY_ADMIN_TOKEN" },
  dataDir: "state",
  defaults: { limits: { cpuMs: 20, memoryMb: 64, wallMs: 10_000, startupMs: 500, bodyBytes: 1024, subrequests: 5, concurrency: 8, queue: 16 } },
  cache: { maxIsolates: 50, maxMemoryMb: 2048, idleTtlSeconds: 60, replicas: 3 },
  frontEnd: { maxExecuting: 2, inlineThresholdMs: 0.5, hangStallMs: 250, hangKillMs: 5000, rssLimitMb: 1024, shutdownTimeoutMs: 3000, tenantThreadNice: 10 },
  apps: [
    {
      name: "shop",
      entry: "apps/shop/app.ts",
      routes: ["shop.example.com", "*.shop.example.com", "example.com/api/"],
      vars: { MODE: "prod" },
      secrets: { KEY: { env: "SHOP_KEY" } },
      limits: { cpuMs: 100 },
      assets: "apps/shop/public",
      outbound: { allow: ["api.stripe.com", "*.example.net"], allowPrivate: true },
      watch: true,
    },
    { name: "blog", entry: "apps/blog/index.js", routes: ["blog.example.com"], outbound: { allow: [] } },
  ],
};

function fullConfig(t: Parameters<typeof configDir>[0]): { dir: string; config: ServeConfig } {
  const dir = configDir(t, { "apps/shop/app.ts": "export default {}", "apps/shop/public/index.html": "<h1>", "apps/blog/index.js": "export default {}" });
  const file = writeConfig(dir, FULL);
  return { dir, config: loadServeConfig(file, { env: { SHOP_KEY: "k", MY_ADMIN_TOKEN: "t" } }) };
}

test("config: a full config loads with every section as written", (t) => {
  const { dir, config } = fullConfig(t);
  t.is(config.file, path.join(dir, "edgehost.json"));
  t.deepEqual(config.listen, { host: "0.0.0.0", port: 8080 });
  t.deepEqual({ ...config.admin, token: config.admin?.token?.reveal() }, { host: "127.0.0.1", port: 9090, tokenEnv: "MY_ADMIN_TOKEN", token: "t" });
  t.is(config.dataDir, path.join(dir, "state"));
  t.deepEqual(config.defaults.limits, FULL.defaults.limits);
  t.deepEqual(config.cache, FULL.cache);
  t.deepEqual(config.frontEnd, FULL.frontEnd);
  const [shop, blog] = config.apps;
  t.is(shop?.name, "shop");
  t.is(shop?.entry, path.join(dir, "apps/shop/app.ts"));
  t.deepEqual(shop?.routes, [
    { pattern: "shop.example.com", match: "exact", host: "shop.example.com", pathPrefix: "/" },
    { pattern: "*.shop.example.com", match: "wildcard", host: "shop.example.com", pathPrefix: "/" },
    { pattern: "example.com/api/", match: "exact", host: "example.com", pathPrefix: "/api" },
  ]);
  t.deepEqual(shop?.vars, { MODE: "prod" });
  t.is(shop?.secrets.KEY?.reveal(), "k");
  t.deepEqual(shop?.limits, { ...FULL.defaults.limits, cpuMs: 100 });
  t.is(shop?.assets, path.join(dir, "apps/shop/public"));
  t.deepEqual(shop?.outbound, {
    allow: [
      { pattern: "api.stripe.com", match: "exact", host: "api.stripe.com" },
      { pattern: "*.example.net", match: "wildcard", host: "example.net" },
    ],
    allowPrivate: true,
  });
  t.true(shop?.watch);
  t.deepEqual(blog?.outbound, { allow: [], allowPrivate: false });
  t.is(blog?.assets, undefined);
  t.false("assets" in (blog ?? {}));
});

test("config: a minimal config (only apps) gets the documented defaults", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const config = loadServeConfig(writeConfig(dir, { apps: [app("a")] }), { env: {} });
  t.deepEqual(config.listen, { host: "127.0.0.1", port: 8787 });
  t.is(config.admin, undefined);
  t.is(config.dataDir, path.join(dir, ".edgehost"));
  t.deepEqual(config.defaults.limits, {
    cpuMs: 50,
    memoryMb: 128,
    wallMs: 30_000,
    startupMs: 1000,
    bodyBytes: 104_857_600,
    subrequests: 50,
    concurrency: 64,
    queue: 256,
  });
  t.deepEqual(config.cache, { maxIsolates: 1000, maxMemoryMb: 4096, idleTtlSeconds: 600, replicas: 2 });
  t.deepEqual(config.frontEnd, { maxExecuting: 0, inlineThresholdMs: 1, hangStallMs: 500, hangKillMs: 10_000, rssLimitMb: 0, shutdownTimeoutMs: 10_000, tenantThreadNice: 0 });
  const [only] = config.apps;
  t.deepEqual(only?.vars, {});
  t.deepEqual(only?.secrets, {});
  t.deepEqual(only?.outbound, { allowPrivate: false });
  t.false(only?.watch);
  // Apps that keep the defaults share the one frozen defaults object.
  t.is(only?.limits, config.defaults.limits);
});

test("config: an empty apps list is valid (apps may come from deploys)", (t) => {
  const dir = configDir(t);
  t.deepEqual(loadServeConfig(writeConfig(dir, { apps: [] }), { env: {} }).apps, []);
});

test("config: an admin section of {} takes the default address and token variable", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const config = loadServeConfig(writeConfig(dir, { admin: {}, apps: [] }), { env: { EDGEHOST_ADMIN_TOKEN: "x" } });
  t.deepEqual({ ...config.admin, token: config.admin?.token?.reveal() }, { host: "127.0.0.1", port: 8788, tokenEnv: "EDGEHOST_ADMIN_TOKEN", token: "x" });
});

test("config: a loopback admin listener without its token variable loads, with no token", (t) => {
  const dir = configDir(t);
  const config = loadServeConfig(writeConfig(dir, { admin: { host: "::1" }, apps: [] }), { env: {} });
  t.is(config.admin?.token, undefined);
  t.is(config.admin?.host, "::1");
});

test("config: effective limits merge defaults.limits under each app's override, key by key", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const config = loadServeConfig(
    writeConfig(dir, { defaults: { limits: { cpuMs: 10, queue: 0 } }, apps: [app("a", { limits: { cpuMs: 30, memoryMb: 256 } }), app("b")] }),
    { env: {} },
  );
  t.deepEqual(config.defaults.limits, { ...DEFAULT_APP_LIMITS, cpuMs: 10, queue: 0 });
  t.deepEqual(config.apps[0]?.limits, { ...DEFAULT_APP_LIMITS, cpuMs: 30, queue: 0, memoryMb: 256 });
  t.is(config.apps[1]?.limits, config.defaults.limits);
});

test("config: relative paths resolve against the config file's directory, not the cwd", (t) => {
  const dir = configDir(t, { "conf/apps/a/app.ts": "", "conf/apps/a/public/x.css": "", "conf/keys/a.key": "k\n", "abs.ts": "" });
  const file = writeConfig(dir, {
    dataDir: "../data",
    apps: [
      app("a", { entry: "apps/a/app.ts", assets: "./apps/a/public/", secrets: { K: { file: "keys/a.key" } } }),
      app("b", { entry: path.join(dir, "abs.ts") }),
    ],
  }, "conf/edgehost.json");
  const cwd = process.cwd();
  t.not(cwd, path.join(dir, "conf"));
  const config = loadServeConfig(path.relative(cwd, file), { env: {} });
  t.is(config.file, file);
  t.is(config.dataDir, path.join(dir, "data"));
  t.is(config.apps[0]?.entry, path.join(dir, "conf/apps/a/app.ts"));
  t.is(config.apps[0]?.assets, path.join(dir, "conf/apps/a/public"));
  t.is(config.apps[0]?.secrets.K?.source, `file ${path.join(dir, "conf/keys/a.key")}`);
  t.is(config.apps[1]?.entry, path.join(dir, "abs.ts"));
});

/** Every object reachable from `root`. */
function reachable(root: object): object[] {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item !== "object" || item === null || seen.has(item)) continue;
    seen.add(item);
    for (const key of Object.keys(item)) stack.push((item as Record<string, unknown>)[key]);
  }
  return [...seen];
}

test("config: the result is deeply frozen", (t) => {
  const { config } = fullConfig(t);
  const objects = reachable(config);
  t.true(objects.length >= 20);
  t.deepEqual(objects.filter((object) => !Object.isFrozen(object)), []);
  const shop = config.apps[0];
  t.throws(() => {
    (config.listen as { port: number }).port = 1;
  }, { instanceOf: TypeError });
  t.throws(() => {
    (config.apps as unknown[]).push({});
  }, { instanceOf: TypeError });
  t.throws(() => {
    (shop?.vars as Record<string, string>).MODE = "dev";
  }, { instanceOf: TypeError });
});

test("config: a minimal config is deeply frozen too (shared and empty parts included)", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const config = loadServeConfig(writeConfig(dir, { apps: [app("a"), app("b", { outbound: { allow: ["x.com"] } })] }), { env: {} });
  t.deepEqual(reachable(config).filter((object) => !Object.isFrozen(object)), []);
});

test("config: a missing file is EDGE_CONFIG_UNREADABLE naming it", (t) => {
  const dir = configDir(t);
  const missing = path.join(dir, "nope.json");
  const error = expectConfigError(t, () => loadServeConfig(missing, { env: {} }));
  t.is(error.code, "EDGE_CONFIG_UNREADABLE");
  t.is(error.message, `${missing}: cannot read the config file: no such file`);
  const isDir = expectConfigError(t, () => loadServeConfig(dir, { env: {} }));
  t.is(isDir.message, `${dir}: cannot read the config file: is a directory`);
});

test("config: a UTF-8 byte order mark before the JSON is accepted", (t) => {
  const dir = configDir(t);
  t.deepEqual(loadServeConfig(writeConfig(dir, `\uFEFF{"apps": []}`), { env: {} }).apps, []);
});

test("config: entries and asset dirs are checked at load (checkFiles: false skips it)", (t) => {
  const dir = configDir(t, { "app.ts": "", "file.txt": "" });
  const file = writeConfig(dir, { apps: [app("a", { entry: "gone.ts" }), app("b", { assets: "file.txt" }), app("c", { entry: ".", assets: "missing" })] });
  const error = expectConfigError(t, () => loadServeConfig(file, { env: {} }));
  t.deepEqual(
    error.issues.map((issue) => `${issue.path}: ${issue.message}`),
    [
      `apps[0].entry: no such file: ${path.join(dir, "gone.ts")}`,
      `apps[1].assets: not a directory (file): ${path.join(dir, "file.txt")}`,
      `apps[2].entry: not a readable file (directory): ${dir}`,
      `apps[2].assets: no such directory: ${path.join(dir, "missing")}`,
    ],
  );
  t.is(loadServeConfig(file, { env: {}, checkFiles: false }).apps.length, 3);
});
