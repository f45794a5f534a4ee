/**
 * `edgehost run app.ts [flags]` as a serve config: one app, routed for any
 * host, its limits from the flags, so that run and serve can share one code
 * path. Every RunConfig field has a place here (see RUN_FIELD_PATHS).
 */
import { basename, extname, resolve } from "node:path";
import type { RunConfig } from "../run-config.js";
import { ConfigError, isConfigError, type ConfigIssue } from "./errors.js";
import { validateServeConfig } from "./resolve.js";
import type { ServeConfig } from "./types.js";

/**
 * The isolate's own cap on requests at once (sandbox DEFAULT_SANDBOX_LIMITS
 * .maxConcurrentRequests), which is all the concurrency limit `run` has
 * today; past it a request is refused, not queued.
 */
export const RUN_CONCURRENCY = 1000;

/**
 * Where each RunConfig field lands in the serve config, and the flag that
 * sets it (none for the two that only have defaults). Typed by RunConfig's
 * keys, so a new run option does not compile until it has a place here.
 */
export const RUN_FIELD_PATHS: Readonly<Record<keyof RunConfig, { readonly path: string; readonly flag?: string }>> = {
  entry: { path: "apps[0].entry", flag: "<entry>" },
  host: { path: "listen.host", flag: "--host" },
  port: { path: "listen.port", flag: "--port" },
  vars: { path: "apps[0].vars", flag: "--var" },
  watch: { path: "apps[0].watch", flag: "--watch" },
  cpuLimitMs: { path: "defaults.limits.cpuMs", flag: "--cpu-ms" },
  memoryLimitMb: { path: "defaults.limits.memoryMb", flag: "--memory-mb" },
  wallLimitMs: { path: "defaults.limits.wallMs", flag: "--wall-ms" },
  startupLimitMs: { path: "defaults.limits.startupMs", flag: "--startup-ms" },
  bodyLimitBytes: { path: "defaults.limits.bodyBytes", flag: "--body-limit-mb" },
  subrequestLimit: { path: "defaults.limits.subrequests", flag: "--subrequests" },
  allowPrivateFetch: { path: "apps[0].outbound.allowPrivate", flag: "--allow-private-fetch" },
  inlineThresholdMs: { path: "frontEnd.inlineThresholdMs", flag: "--inline-ms" },
  maxExecuting: { path: "frontEnd.maxExecuting", flag: "--max-executing" },
  hangStallMs: { path: "frontEnd.hangStallMs" },
  hangKillMs: { path: "frontEnd.hangKillMs", flag: "--hang-kill-ms" },
  rssLimitMb: { path: "frontEnd.rssLimitMb", flag: "--rss-limit-mb" },
  shutdownTimeoutMs: { path: "frontEnd.shutdownTimeoutMs" },
  tenantThreadNice: { path: "frontEnd.tenantThreadNice", flag: "--tenant-nice" },
};

/** An app name from the entry's file name (`my_App.ts` -> `my-app`), `app` if nothing is left. */
export function appNameFromEntry(entry: string): string {
  const stem = basename(entry, extname(entry))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return stem === "" ? "app" : stem;
}

/** Issues at serve paths, renamed to the flags that set them. */
function asFlagIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const flags = new Map(Object.entries(RUN_FIELD_PATHS).map(([field, { path, flag }]) => [path, flag ?? `run option ${field}`]));
  return issues.map((issue) => {
    const match = [...flags.keys()].find((path) => issue.path === path || issue.path.startsWith(`${path}.`) || issue.path.startsWith(`${path}[`));
    return match === undefined ? issue : { ...issue, path: `${flags.get(match) ?? match}${issue.path.slice(match.length)}` };
  });
}

export interface SingleAppOptions {
  /** `dataDir` (unused by run) is `.edgehost` under it. Default: `process.cwd()`. */
  readonly cwd?: string;
}

/**
 * The serve config `edgehost run` amounts to. Run never evicts its one app,
 * so the cache keeps one isolate with no idle expiry and no memory bound
 * below the schema's maximum; concurrency is the isolate's cap, no queue.
 * Entry existence is left to run (it reports a missing entry itself).
 *
 * @throws ConfigError(EDGE_CONFIG_INVALID) for values run accepts but serve
 *   bounds (run has no maximum for body size, subrequests, --max-executing
 *   or the shutdown timeout), with the flag as the path.
 */
export function singleAppServeConfig(run: RunConfig, options: SingleAppOptions = {}): ServeConfig {
  const cwd = options.cwd ?? process.cwd();
  const input = {
    listen: { host: run.host, port: run.port },
    dataDir: resolve(cwd, ".edgehost"),
    defaults: {
      limits: {
        cpuMs: run.cpuLimitMs,
        memoryMb: run.memoryLimitMb,
        wallMs: run.wallLimitMs,
        startupMs: run.startupLimitMs,
        bodyBytes: run.bodyLimitBytes,
        subrequests: run.subrequestLimit,
        concurrency: RUN_CONCURRENCY,
        queue: 0,
      },
    },
    cache: { maxIsolates: 1, maxMemoryMb: 1_048_576, idleTtlSeconds: 0, replicas: 1 },
    frontEnd: {
      maxExecuting: run.maxExecuting,
      inlineThresholdMs: run.inlineThresholdMs,
      hangStallMs: run.hangStallMs,
      hangKillMs: run.hangKillMs,
      rssLimitMb: run.rssLimitMb,
      shutdownTimeoutMs: run.shutdownTimeoutMs,
      tenantThreadNice: run.tenantThreadNice,
    },
    apps: [
      {
        name: appNameFromEntry(run.entry),
        entry: run.entry,
        routes: ["*"],
        vars: run.vars,
        outbound: { allowPrivate: run.allowPrivateFetch },
        watch: run.watch,
      },
    ],
  };
  try {
    return validateServeConfig(input, { source: "edgehost run", baseDir: cwd, env: {}, checkFiles: false });
  } catch (error) {
    if (isConfigError(error)) throw new ConfigError(error.code, error.source, asFlagIssues(error.issues));
    throw error;
  }
}
