import test from "ava";
import { loadServeConfig, validateServeConfig } from "../runtime/config/index.js";
import type { ExecutionContext } from "ava";
import { app, configDir, expectConfigError, issueLines, writeConfig } from "./helpers/config-fixtures.js";

/** Every problem `input` has, as `path: message` lines (files not checked, empty environment). */
function problems(t: ExecutionContext, input: unknown, env: Record<string, string> = {}): string[] {
  const error = expectConfigError(t, () => validateServeConfig(input, { source: "t.json", baseDir: "/base", env, checkFiles: false }));
  t.is(error.code, "EDGE_CONFIG_INVALID");
  return issueLines(error.issues);
}

const ok = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, entry: "a.ts", routes: [`${name}.com`], ...extra });

test("config errors: the document itself and the apps list", (t) => {
  t.deepEqual(problems(t, []), [": expected an object, got an array"]);
  t.deepEqual(problems(t, {}), ["apps: required"]);
  t.deepEqual(problems(t, { apps: {} }), ["apps: expected an array of apps, got an object"]);
  t.deepEqual(problems(t, { apps: [1, null, {}] }), [
    "apps[0]: expected an object, got 1",
    "apps[1]: expected an object, got null",
    "apps[2].name: required",
    "apps[2].entry: required",
    "apps[2].routes: required",
  ]);
});

test("config errors: listen, admin, dataDir and $schema, several at once", (t) => {
  t.deepEqual(problems(t, { listen: { port: "80", host: "" }, admin: { port: -1, host: "a b" }, $schema: 3, dataDir: "", apps: [] }), [
    'listen.port: expected an integer from 0 to 65535, got "80"',
    "listen.host: expected an IP address or a host name",
    "admin.port: expected an integer from 0 to 65535, got -1",
    'admin.host: expected an IP address or a host name, got "a b"',
    "$schema: expected a string, got 3",
    "dataDir: expected a path, not an empty string",
  ]);
  t.deepEqual(problems(t, { listen: { port: 70_000 }, apps: [] }), ["listen.port: expected an integer from 0 to 65535, got 70000"]);
});

test("config errors: every limit out of range, with its path", (t) => {
  const limits = { cpuMs: 0, memoryMb: 4, wallMs: 1.5, startupMs: 60_001, bodyBytes: -1, subrequests: 1e7, concurrency: 0, queue: true };
  t.deepEqual(problems(t, { defaults: { limits }, apps: [] }), [
    "defaults.limits.cpuMs: expected a number greater than 0 and at most 60000, got 0",
    "defaults.limits.memoryMb: expected an integer from 8 to 16384, got 4",
    "defaults.limits.wallMs: expected an integer from 1 to 3600000, got 1.5",
    "defaults.limits.startupMs: expected an integer from 1 to 60000, got 60001",
    "defaults.limits.bodyBytes: expected an integer from 0 to 1099511627776, got -1",
    "defaults.limits.subrequests: expected an integer from 0 to 1000000, got 10000000",
    "defaults.limits.concurrency: expected an integer from 1 to 100000, got 0",
    "defaults.limits.queue: expected an integer from 0 to 1000000, got true",
  ]);
  t.deepEqual(problems(t, { apps: [ok("a"), ok("b"), ok("c"), ok("d", { limits: { cpuMs: -5, wallMs: "1s" } })] }), [
    "apps[3].limits.cpuMs: expected a number greater than 0 and at most 60000, got -5",
    'apps[3].limits.wallMs: expected an integer from 1 to 3600000, got "1s"',
  ]);
});

test("config errors: cache and frontEnd ranges", (t) => {
  t.deepEqual(
    problems(t, { cache: { maxIsolates: 0, maxMemoryMb: 1, idleTtlSeconds: -1, replicas: 300 }, frontEnd: { inlineThresholdMs: 51, hangKillMs: 0, maxExecuting: 2000, shutdownTimeoutMs: 0 }, apps: [] }),
    [
      "cache.maxIsolates: expected an integer from 1 to 1000000, got 0",
      "cache.maxMemoryMb: expected an integer from 8 to 1048576, got 1",
      "cache.idleTtlSeconds: expected an integer from 0 to 604800, got -1",
      "cache.replicas: expected an integer from 1 to 256, got 300",
      "frontEnd.inlineThresholdMs: expected a number from 0 to 50, got 51",
      "frontEnd.hangKillMs: expected an integer from 1 to 600000, got 0",
      "frontEnd.maxExecuting: expected an integer from 0 to 1024, got 2000",
      "frontEnd.shutdownTimeoutMs: expected an integer from 1 to 3600000, got 0",
    ],
  );
});

test("config errors: unknown keys are refused one by one at their own path, with a suggestion, in document order", (t) => {
  t.deepEqual(problems(t, { lisen: {}, cache: { size: 3 }, apps: [ok("a", { limit: {}, Vars: {}, outbound: { alow: [] }, limits: { cpu: 1 } })] }), [
    'lisen: unknown key (did you mean "listen"?)',
    "cache.size: unknown key (expected one of: maxIsolates, maxMemoryMb, idleTtlSeconds, replicas)",
    'apps[0].limit: unknown key (did you mean "limits"?)',
    'apps[0].Vars: unknown key (did you mean "vars"?)',
    'apps[0].outbound.alow: unknown key (did you mean "allow"?)',
    "apps[0].limits.cpu: unknown key (expected one of: cpuMs, memoryMb, wallMs, startupMs, bodyBytes, subrequests, concurrency, queue)",
  ]);
});

test("config errors: an unknown key is reported even when its siblings are invalid too", (t) => {
  t.deepEqual(problems(t, { listen: { port: "x", hots: "a" }, apps: [] }), [
    'listen.port: expected an integer from 0 to 65535, got "x"',
    'listen.hots: unknown key (did you mean "host"?)',
  ]);
});

test("config errors: app names, entries and the routes list", (t) => {
  const name = "a".repeat(64);
  const nameRule = "expected a name of 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit";
  t.deepEqual(
    problems(t, {
      apps: [
        { name: "Bad_Name", entry: "", routes: [] },
        { name: "-x", entry: "a\u0000b", routes: "a.com" },
        { name, entry: 5, routes: [5] },
      ],
    }),
    [
      `apps[0].name: ${nameRule}, got "Bad_Name"`,
      "apps[0].entry: expected a path, not an empty string",
      "apps[0].routes: expected 1 to 1000 routes, got 0",
      `apps[1].name: ${nameRule}, got "-x"`,
      'apps[1].entry: a path cannot contain a NUL character, got "a\\u0000b"',
      'apps[1].routes: expected an array of routes, got "a.com"',
      `apps[2].name: ${nameRule}, got "${name}"`,
      "apps[2].entry: expected a path, got 5",
      "apps[2].routes[0]: expected a route (a string), got 5",
    ],
  );
});

test("config errors: route syntax", (t) => {
  const routes = ["https://a.com", "a.com:8080", "a.*.com", "*x.com", "a.com//x", "a.com/x/../y", "a.com/x?y=1", "a.com/%41", "bücher.de", "[::1]", "1.2.3", "a.com.", "", "-a.com"];
  const lines = problems(t, { apps: [ok("a", { routes: [...routes, "*", "*/api", "*.example.com/x/", "xn--bcher-kva.de", "127.0.0.1/x"] })] });
  t.deepEqual(lines, [
    'apps[0].routes[0]: "https://a.com" is not a route: a route has no scheme: write host or host/path',
    'apps[0].routes[1]: "a.com:8080" is not a route: a pattern has no port (ports are not matched) and no IPv6 literal',
    "apps[0].routes[2]: \"a.*.com\" is not a route: '*' may only stand alone or open the host as '*.'",
    "apps[0].routes[3]: \"*x.com\" is not a route: '*' may only stand alone or open the host as '*.'",
    "apps[0].routes[4]: \"a.com//x\" is not a route: the path has an empty segment ('//')",
    "apps[0].routes[5]: \"a.com/x/../y\" is not a route: the path has '.' or '..' segments",
    'apps[0].routes[6]: "a.com/x?y=1" is not a route: the path has characters a route cannot match (query, fragment, percent-encoding, spaces or non-ASCII)',
    'apps[0].routes[7]: "a.com/%41" is not a route: the path has characters a route cannot match (query, fragment, percent-encoding, spaces or non-ASCII)',
    'apps[0].routes[8]: "bücher.de" is not a route: the host has spaces or non-ASCII characters (write IDNs in their xn-- form)',
    'apps[0].routes[9]: "[::1]" is not a route: a pattern has no port (ports are not matched) and no IPv6 literal',
    'apps[0].routes[10]: "1.2.3" is not a route: no request\'s Host can match it (URL parsing reads it as a number or changes it)',
    'apps[0].routes[11]: "a.com." is not a route: the host ends in a dot',
    'apps[0].routes[12]: "" is not a route: the host is empty',
    'apps[0].routes[13]: "-a.com" is not a route: the host is not a valid DNS name (labels of letters, digits and inner hyphens)',
  ]);
});

test("config errors: outbound allow patterns and booleans", (t) => {
  t.deepEqual(problems(t, { apps: [ok("a", { outbound: { allow: ["*", "https://x.com", "x.com/p", "*.x.com", "x.com:443", 7], allowPrivate: "yes" }, watch: 1 })] }), [
    "apps[0].outbound.allow[0]: \"*\" is not a host pattern: '*' alone is not allowed (leave out allow to allow any public host)",
    'apps[0].outbound.allow[1]: "https://x.com" is not a host pattern: a host pattern has no scheme',
    'apps[0].outbound.allow[2]: "x.com/p" is not a host pattern: a host pattern has no path',
    'apps[0].outbound.allow[4]: "x.com:443" is not a host pattern: a pattern has no port (ports are not matched) and no IPv6 literal',
    "apps[0].outbound.allow[5]: expected a host pattern (a string), got 7",
    'apps[0].outbound.allowPrivate: expected true or false, got "yes"',
    "apps[0].watch: expected true or false, got 1",
  ]);
});

test("config errors: vars and secret references (values never quoted)", (t) => {
  const lines = problems(t, {
    apps: [
      ok("a", {
        vars: { A: 1, B: { x: "hunter2" }, "": "x", OK: "fine" },
        secrets: { S1: { env: "X", file: "y" }, S2: {}, S3: "sk_live_hunter2", S4: { env: "1BAD" }, S5: { env: "X", extra: "hunter2" }, S6: { file: "" } },
      }),
    ],
  });
  t.deepEqual(lines, [
    "apps[0].vars.A: expected a string",
    "apps[0].vars.B: expected a string",
    'apps[0].vars[""]: a binding name must be 1 to 256 characters and not __proto__',
    "apps[0].secrets.S1: give env or file, not both",
    'apps[0].secrets.S2: expected {"env": "NAME"} or {"file": "PATH"} (secret values do not go in the config file)',
    'apps[0].secrets.S3: expected {"env": "NAME"} or {"file": "PATH"} (secret values do not go in the config file)',
    "apps[0].secrets.S4.env: expected an environment variable name (letters, digits, '_', not starting with a digit)",
    "apps[0].secrets.S5.extra: unknown key (expected one of: env, file)",
    "apps[0].secrets.S6.file: expected a path, not an empty string",
  ]);
  t.false(lines.join("\n").includes("hunter2"));
});

test("config errors: a var named __proto__ is refused, not dropped", (t) => {
  t.deepEqual(problems(t, JSON.parse('{"apps": [{"name": "a", "entry": "a.ts", "routes": ["a.com"], "vars": {"__proto__": "x"}}]}')), [
    "apps[0].vars.__proto__: a binding name must be 1 to 256 characters and not __proto__",
  ]);
});

test("config errors: duplicate app names, at the later app", (t) => {
  t.deepEqual(problems(t, { apps: [ok("a"), ok("b"), { ...ok("a"), routes: ["other.com"] }, { ...ok("b"), routes: ["x.com"] }] }), [
    'apps[2].name: "a" is already the name of apps[0]',
    'apps[3].name: "b" is already the name of apps[1]',
  ]);
});

test("config errors: a route claimed twice, after normalising case and trailing slash", (t) => {
  t.deepEqual(
    problems(t, {
      apps: [
        ok("a", { routes: ["a.com", "Example.com/api/", "a.com/"] }),
        ok("b", { routes: ["example.com/api", "*.a.com", "*"] }),
        ok("c", { routes: ["*.A.com", "*/", "a.com/api", "example.com"] }),
      ],
    }),
    [
      'apps[0].routes[2]: route "a.com/" is listed twice (also apps[0].routes[0])',
      'apps[1].routes[0]: route "example.com/api" is already claimed by app "a" (apps[0].routes[1])',
      'apps[2].routes[0]: route "*.A.com" is already claimed by app "b" (apps[1].routes[1])',
      'apps[2].routes[1]: route "*/" is already claimed by app "b" (apps[1].routes[2])',
    ],
  );
});

test("config errors: a name both a var and a secret", (t) => {
  t.deepEqual(problems(t, { apps: [ok("a", { vars: { K: "v" }, secrets: { K: { env: "K" } } })] }, { K: "s" }), [
    "apps[0].secrets.K: also defined in vars: a name is either a var or a secret",
  ]);
});

test("config errors: the admin listener may not share listen's port (uWS would silently share it)", (t) => {
  t.deepEqual(problems(t, { listen: { port: 9000 }, admin: { port: 9000 }, apps: [] }), ["admin.port: the admin listener cannot share the port of listen (127.0.0.1:9000)"]);
  t.deepEqual(problems(t, { listen: { host: "0.0.0.0", port: 9000 }, admin: { host: "127.0.0.1", port: 9000 }, apps: [] }), [
    "admin.port: the admin listener cannot share the port of listen (0.0.0.0:9000)",
  ]);
  // Different addresses, or ports picked by the kernel, are fine.
  const base = { source: "t.json", baseDir: "/", env: {} };
  t.is(validateServeConfig({ listen: { host: "10.0.0.1", port: 9000 }, admin: { port: 9000 }, apps: [] }, base).admin?.port, 9000);
  t.is(validateServeConfig({ listen: { port: 0 }, admin: { port: 0 }, apps: [] }, base).admin?.port, 0);
});

test("config errors: a non-loopback admin listener needs its token", (t) => {
  t.deepEqual(problems(t, { admin: { host: "0.0.0.0" }, apps: [] }), [
    "admin.tokenEnv: environment variable EDGEHOST_ADMIN_TOKEN is not set: a token is required when the admin listener is not loopback (admin.host 0.0.0.0)",
  ]);
  t.deepEqual(problems(t, { admin: { host: "10.1.2.3", tokenEnv: "T" }, apps: [] }, { T: "" }), [
    "admin.tokenEnv: environment variable T is empty: a token is required when the admin listener is not loopback (admin.host 10.1.2.3)",
  ]);
});

test("config errors: cache bounds that contradict the limits", (t) => {
  t.deepEqual(
    problems(t, {
      cache: { maxIsolates: 2, replicas: 3, maxMemoryMb: 100 },
      defaults: { limits: { memoryMb: 200 } },
      apps: [ok("a", { limits: { memoryMb: 300 } }), ok("b", { limits: { memoryMb: 64 } }), ok("c")],
    }),
    [
      "cache.replicas: 3 replicas per app exceed cache.maxIsolates (2)",
      "defaults.limits.memoryMb: 200 MB exceeds cache.maxMemoryMb (100): the isolate could never stay warm",
      "apps[0].limits.memoryMb: 300 MB exceeds cache.maxMemoryMb (100): the isolate could never stay warm",
    ],
  );
});

test("config errors: problems of every kind in one load, in document order, with the file in each line", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const file = writeConfig(dir, {
    listen: { port: 70_000 },
    bogus: true,
    apps: [
      app("shop", { secrets: { KEY: { env: "SHOP_KEY" } }, limits: { cpuMs: 0 } }),
      app("shop", { entry: "missing.ts", routes: ["shop.example.com", "http://x"] }),
    ],
  });
  const error = expectConfigError(t, () => loadServeConfig(file, { env: {} }));
  t.is(error.code, "EDGE_CONFIG_INVALID");
  t.is(error.source, file);
  t.deepEqual(error.message.split("\n"), [
    `${file}: listen.port: expected an integer from 0 to 65535, got 70000`,
    `${file}: bogus: unknown key (expected one of: $schema, listen, admin, dataDir, defaults, cache, frontEnd, apps)`,
    `${file}: apps[0].secrets.KEY: environment variable SHOP_KEY is not set`,
    `${file}: apps[0].limits.cpuMs: expected a number greater than 0 and at most 60000, got 0`,
    `${file}: apps[1].name: "shop" is already the name of apps[0]`,
    `${file}: apps[1].entry: no such file: ${dir}/missing.ts`,
    `${file}: apps[1].routes[0]: route "shop.example.com" is already claimed by app "shop" (apps[0].routes[0])`,
    `${file}: apps[1].routes[1]: "http://x" is not a route: a route has no scheme: write host or host/path`,
  ]);
});

test("config errors: the message lists the first 50 problems; issues holds all of them", (t) => {
  const apps = Array.from({ length: 120 }, (_, i) => ok(`a${i}`, { limits: { cpuMs: 0 } }));
  const error = expectConfigError(t, () => validateServeConfig({ apps }, { source: "t.json", baseDir: "/", env: {}, checkFiles: false }));
  t.is(error.issues.length, 120);
  const lines = error.message.split("\n");
  t.is(lines.length, 51);
  t.is(lines[49], "t.json: apps[49].limits.cpuMs: expected a number greater than 0 and at most 60000, got 0");
  t.is(lines[50], "t.json: ... and 70 more problems");
});
