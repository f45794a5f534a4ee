import path from "node:path";
import test from "ava";
import { parseCli } from "../runtime/cli-args.js";
import { appNameFromEntry, DEFAULT_APP_LIMITS, RUN_CONCURRENCY, RUN_FIELD_PATHS, singleAppServeConfig } from "../runtime/config/index.js";
import { resolveRunConfig, runConfigSchema, type RunConfig } from "../runtime/run-config.js";
import { DEFAULT_SANDBOX_LIMITS } from "../sandbox/index.js";
import { configDir, expectConfigError, issueLines } from "./helpers/config-fixtures.js";

function runConfig(argv: string[], cwd: string): RunConfig {
  const command = parseCli(argv);
  if (command.kind !== "run") throw new Error("expected a run command");
  return resolveRunConfig(command.config, cwd);
}

test("config single app: every run flag lands in the serve config", (t) => {
  const dir = configDir(t, { "My_App.ts": "" });
  const run = runConfig(
    [
      "run", "My_App.ts",
      "--port", "9001", "--host", "0.0.0.0", "--var", "A=1", "--var", "B=x=y", "--watch",
      "--cpu-ms", "12.5", "--memory-mb", "256", "--wall-ms", "7000", "--startup-ms", "300",
      "--body-limit-mb", "2", "--subrequests", "7", "--allow-private-fetch", "--max-executing", "3",
      "--inline-ms", "0", "--rss-limit-mb", "900", "--hang-kill-ms", "4000", "--tenant-nice", "10",
    ],
    dir,
  );
  const config = singleAppServeConfig(run, { cwd: dir });
  t.deepEqual(config.listen, { host: "0.0.0.0", port: 9001 });
  t.is(config.admin, undefined);
  t.is(config.file, undefined);
  t.is(config.dataDir, path.join(dir, ".edgehost"));
  t.deepEqual(config.defaults.limits, {
    cpuMs: 12.5,
    memoryMb: 256,
    wallMs: 7000,
    startupMs: 300,
    bodyBytes: 2 * 1024 * 1024,
    subrequests: 7,
    concurrency: RUN_CONCURRENCY,
    queue: 0,
  });
  t.deepEqual(config.frontEnd, { maxExecuting: 3, inlineThresholdMs: 0, hangStallMs: 500, hangKillMs: 4000, rssLimitMb: 900, shutdownTimeoutMs: 10_000, tenantThreadNice: 10 });
  t.deepEqual(config.cache, { maxIsolates: 1, maxMemoryMb: 1_048_576, idleTtlSeconds: 0, replicas: 1 });
  t.is(config.apps.length, 1);
  const [only] = config.apps;
  t.is(only?.name, "my-app");
  t.is(only?.entry, path.join(dir, "My_App.ts"));
  t.deepEqual(only?.routes, [{ pattern: "*", match: "any", host: "", pathPrefix: "/" }]);
  t.deepEqual(only?.vars, { A: "1", B: "x=y" });
  t.deepEqual(only?.secrets, {});
  t.is(only?.limits, config.defaults.limits);
  t.deepEqual(only?.outbound, { allowPrivate: true });
  t.true(only?.watch);
  t.true(Object.isFrozen(only?.vars));
});

test("config single app: run's defaults map onto serve's, .dev.vars included", (t) => {
  const dir = configDir(t, { "app.ts": "", ".dev.vars": "FROM_FILE=1\nBOTH=file\n" });
  const config = singleAppServeConfig(runConfig(["run", "app.ts", "--var", "BOTH=flag"], dir), { cwd: dir });
  t.deepEqual(config.listen, { host: "127.0.0.1", port: 8787 });
  t.deepEqual(config.defaults.limits, { ...DEFAULT_APP_LIMITS, concurrency: RUN_CONCURRENCY, queue: 0 });
  t.deepEqual(config.frontEnd, { maxExecuting: 0, inlineThresholdMs: 1, hangStallMs: 500, hangKillMs: 10_000, rssLimitMb: 0, shutdownTimeoutMs: 10_000, tenantThreadNice: 0 });
  t.deepEqual(config.apps[0]?.vars, { FROM_FILE: "1", BOTH: "flag" });
  t.deepEqual(config.apps[0]?.outbound, { allowPrivate: false });
  t.false(config.apps[0]?.watch);
});

test("config single app: RUN_FIELD_PATHS names every RunConfig field and a real serve path", (t) => {
  const runFields = Object.keys(runConfigSchema.shape).sort();
  t.deepEqual(Object.keys(RUN_FIELD_PATHS).sort(), runFields);
  const dir = configDir(t, { "app.ts": "" });
  const config = singleAppServeConfig(runConfig(["run", "app.ts"], dir), { cwd: dir }) as unknown as Record<string, unknown>;
  for (const [field, { path: servePath }] of Object.entries(RUN_FIELD_PATHS)) {
    const value = servePath.split(/\.|\[(\d+)\]\.?/).filter((part) => part !== undefined && part !== "").reduce<unknown>((object, part) => (object as Record<string, unknown> | undefined)?.[part], config);
    t.not(value, undefined, `${field} -> ${servePath}`);
  }
});

test("config single app: a run value past a serve maximum is reported with its flag", (t) => {
  const dir = configDir(t, { "app.ts": "" });
  const run = runConfig(["run", "app.ts", "--subrequests", "2000000", "--max-executing", "5000"], dir);
  const error = expectConfigError(t, () => singleAppServeConfig(run, { cwd: dir }));
  t.is(error.code, "EDGE_CONFIG_INVALID");
  t.deepEqual(issueLines(error.issues), [
    "--subrequests: expected an integer from 0 to 1000000, got 2000000",
    "--max-executing: expected an integer from 0 to 1024, got 5000",
  ]);
  t.is(error.message.split("\n")[0], "edgehost run: --subrequests: expected an integer from 0 to 1000000, got 2000000");
});

test("config single app: a missing entry is left to run (it reports it itself)", (t) => {
  const dir = configDir(t);
  const config = singleAppServeConfig(runConfig(["run", "missing.ts"], dir), { cwd: dir });
  t.is(config.apps[0]?.entry, path.join(dir, "missing.ts"));
});

test("config single app: app names from entry file names", (t) => {
  t.is(appNameFromEntry("/x/app.ts"), "app");
  t.is(appNameFromEntry("/x/My_Shop.worker.mjs"), "my-shop-worker");
  t.is(appNameFromEntry("/x/__.ts"), "app");
  t.is(appNameFromEntry("/x/ünï.ts"), "n");
  t.is(appNameFromEntry("/x/üï.ts"), "app");
  t.is(appNameFromEntry(`/x/${"a".repeat(62)}_b.ts`), "a".repeat(62));
});

test("config single app: the built-in limits agree with the sandbox's defaults", (t) => {
  t.is(DEFAULT_APP_LIMITS.cpuMs, DEFAULT_SANDBOX_LIMITS.cpuLimitMs);
  t.is(DEFAULT_APP_LIMITS.memoryMb, DEFAULT_SANDBOX_LIMITS.memoryLimitMb);
  t.is(DEFAULT_APP_LIMITS.wallMs, DEFAULT_SANDBOX_LIMITS.wallLimitMs);
  t.is(DEFAULT_APP_LIMITS.startupMs, DEFAULT_SANDBOX_LIMITS.startupLimitMs);
  t.is(DEFAULT_APP_LIMITS.subrequests, DEFAULT_SANDBOX_LIMITS.subrequestLimit);
  t.is(RUN_CONCURRENCY, DEFAULT_SANDBOX_LIMITS.maxConcurrentRequests);
  // And with run's own defaults, so `run` with no flags keeps its limits.
  const run = runConfigSchema.parse({ entry: "a.ts" });
  t.is(DEFAULT_APP_LIMITS.bodyBytes, run.bodyLimitBytes);
  t.is(DEFAULT_APP_LIMITS.cpuMs, run.cpuLimitMs);
});
