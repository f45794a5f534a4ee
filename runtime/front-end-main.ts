/**
 * Entry of a front-end process: uWS listener plus the embedded isolates.
 * Started by the supervisor with --no-node-snapshot and an IPC channel; it
 * is told what to serve, answers "ready" or "fatal", and obeys "shutdown".
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { bundleApp, isLoaderError, watchApp, type AppBundle, type AppWatcher } from "../loader/index.js";
import { InlinePolicy, isSandboxError, lowerTenantThreadPriority } from "../sandbox/index.js";
import type { AppHost } from "./app-host.js";
import { isConfigError, loadServeConfig, singleAppServeConfig, type ServeConfig } from "./config/index.js";
import { RESTARTING } from "./error-response.js";
import { isRuntimeError } from "./errors.js";
import { FrontEnd, type ReloadOutcome } from "./front-end/front-end.js";
import type { Tenant } from "./front-end/tenant.js";
import { HangWatchdog } from "./hang-watchdog.js";
import { isSupervisorMessage, type FrontEndMessage, type FrontEndSource } from "./ipc-messages.js";
import { consoleSink, type LogSink } from "./logger.js";
import { jsonLogger, jsonSink, LogLines, requestLog } from "./observability/json-log.js";
import type { RequestObserver } from "./request-observer.js";
import { startupFailureLine } from "./startup-failure.js";
import { isVersionsError, MANIFEST_FILE_NAME, VersionStore } from "./versions/index.js";

/** After a catastrophic isolate failure, abort even if no replacement arrives. */
const CATASTROPHIC_ABORT_DEADLINE_MS = 10_000;
/** The pipe the supervisor reads stall reports from (fd 4 of the fork's stdio). */
const STALL_REPORT_FD = 4;
/** Drain time for a process that lost an isolate catastrophically. */
const CATASTROPHIC_DRAIN_MS = 2_000;

/** run: text lines for a developer's terminal (tests read them too); serve: JSON records (see start). */
let log: LogSink = consoleSink;
let requestObserver: RequestObserver | undefined;
/** serve's stdout; buffered request records are flushed before any abort. */
let logLines: LogLines | undefined;
let frontEnd: FrontEnd | undefined;
let config: ServeConfig | undefined;
const watchers: AppWatcher[] = [];
let failedCatastrophically = false;
let inlinePolicy: InlinePolicy | undefined;
let shuttingDown = false;

function send(message: FrontEndMessage): void {
  process.send?.(message);
}

function fatal(code: string, message: string): never {
  send({ type: "fatal", code, message });
  process.exit(1);
}

/** The one config both commands come down to. */
function resolveSource(source: FrontEndSource): ServeConfig {
  if (source.kind === "run") return singleAppServeConfig(source.config);
  const loaded = loadServeConfig(source.file);
  return source.host === undefined ? loaded : { ...loaded, listen: { ...loaded.listen, host: source.host } };
}

async function start(source: FrontEndSource, port: number, listenNow: boolean, demotedApps: readonly string[], recentStallsAt: readonly number[]): Promise<void> {
  try {
    config = resolveSource(source);
  } catch (error) {
    if (isConfigError(error)) fatal(error.code, error.message);
    throw error;
  }
  // First, before any isolate entry or thread of our own: the pools' threads
  // are found by making them run (sandbox/tenant-thread-priority.ts).
  const tenantNice = config.frontEnd.tenantThreadNice;
  const lowered = tenantNice > 0 ? await lowerTenantThreadPriority(tenantNice) : undefined;
  if (source.kind === "serve") {
    // An operator's log pipeline reads fields, not text; one record per request.
    logLines = new LogLines();
    log = jsonSink(jsonLogger(logLines));
    requestObserver = requestLog(logLines);
  }
  if (lowered !== undefined && lowered.problems.length > 0) {
    log({ level: "warn", message: `tenant threads not all below the event loop (nice ${tenantNice}): ${lowered.problems.join("; ")}` });
  }
  // run logs under the entry's path as the user typed it; serve under each app's name.
  const runEntry = source.kind === "run" ? relative(process.cwd(), source.config.entry) || source.config.entry : undefined;
  inlinePolicy = new InlinePolicy(demotedApps, (app, entryMs) => send({ type: "inline-demoted", app, entryMs }), { recentStallsAt });
  const hangWatchdog =
    config.frontEnd.inlineThresholdMs > 0
      ? new HangWatchdog({
          stallGraceMs: config.frontEnd.hangStallMs,
          killGraceMs: config.frontEnd.hangKillMs,
          reportFd: STALL_REPORT_FD,
          onAppId: (appId, app) => send({ type: "inline-app", appId, app }),
        })
      : undefined;
  const versions = source.kind === "serve" ? await openVersions(config) : undefined;
  frontEnd = new FrontEnd({
    config,
    ...(versions === undefined ? {} : { versions, onVersionsChanged: () => send({ type: "versions-changed" }) }),
    ...(source.kind === "serve" ? { reloadConfig: () => reloadFromAdmin() } : {}),
    port,
    log,
    inlinePolicy,
    ...(hangWatchdog ? { inlineEntryGuard: hangWatchdog } : {}),
    onCatastrophicError: (message) => onCatastrophic(message),
    refuseWith: () => (failedCatastrophically ? RESTARTING : undefined),
    ...(runEntry !== undefined ? { logName: () => runEntry } : {}),
    ...(requestObserver !== undefined ? { requestObserver } : {}),
  });
  // run reports a broken app at start, as one line; serve builds each app on its first request.
  if (source.kind === "run") {
    for (const tenant of frontEnd.tenants.values()) {
      try {
        await tenant.start();
      } catch (error) {
        if (isLoaderError(error)) fatal(error.code, error.message);
        if (isSandboxError(error) && tenant.host !== undefined) fatal(error.code, startupFailureLine(tenant.appName, error, tenant.host.bundle));
        throw error;
      }
    }
  }
  frontEnd.start();
  // Watch before announcing readiness: an edit made right after "ready" must not be missed.
  for (const app of config.apps) {
    const tenant = frontEnd.tenants.get(app.name);
    if (app.watch && tenant?.host !== undefined) watch(tenant, tenant.host);
  }
  if (listenNow) await listen();
  else send({ type: "ready", port, listening: false });
}

/**
 * The version store of `serve`, when there is an admin API to deploy
 * through or versions deployed before (the admin section may have been
 * dropped since): a config without either never touches the data directory.
 */
async function openVersions(serveConfig: ServeConfig): Promise<VersionStore | undefined> {
  if (serveConfig.admin === undefined && !existsSync(join(serveConfig.dataDir, MANIFEST_FILE_NAME))) return undefined;
  try {
    return await VersionStore.open(serveConfig.dataDir);
  } catch (error) {
    if (isVersionsError(error)) fatal(error.code, error.message);
    throw error;
  }
}

/** Bind the port and the admin port (now, or when a standby is promoted) and say so. */
async function listen(): Promise<void> {
  if (frontEnd === undefined) return;
  // A standby read the store when it started; the active front end may have deployed since.
  await syncVersions();
  try {
    await frontEnd.listen();
  } catch (error) {
    if (isRuntimeError(error)) fatal(error.code, error.message);
    throw error;
  }
  const admin = frontEnd.admin;
  if (admin !== undefined && config?.admin !== undefined) {
    const host = config.admin.host.includes(":") ? `[${config.admin.host}]` : config.admin.host;
    log({ level: "info", message: `admin API listening on http://${host}:${admin.port}/` });
  }
  send({ type: "ready", port: frontEnd.server.port, listening: true });
}

/** `--watch`: rebuild on every change and swap the new version in once it boots; a broken edit keeps the last good one. */
function watch(tenant: Tenant, appHost: AppHost): void {
  let watcher: AppWatcher | undefined;
  const rewatch = (bundle: AppBundle): void => {
    if (watcher !== undefined) watchers.splice(watchers.indexOf(watcher), 1);
    watcher?.close();
    watcher = watchApp(bundle, () => void rebuild());
    watchers.push(watcher);
  };
  const rebuild = async (): Promise<void> => {
    try {
      const bundle = await bundleApp(appHost.bundle.entryPath);
      rewatch(bundle);
      if (bundle.hash === appHost.bundle.hash) return;
      await appHost.reload(bundle);
      log({ level: "info", app: tenant.appName, message: "reloaded" });
    } catch (error) {
      const line = isSandboxError(error)
        ? startupFailureLine(tenant.appName, error, appHost.bundle)
        : error instanceof Error
          ? error.message
          : String(error);
      log({ level: "error", app: tenant.appName, message: `reload failed, still serving the previous version: ${line}` });
    }
  };
  rewatch(appHost.bundle);
}

function onCatastrophic(message: string): void {
  if (failedCatastrophically) return;
  failedCatastrophically = true;
  log({ level: "error", message: `isolate failed catastrophically (${message}); handing over to a new front end` });
  // Keep listening (answering 503) until the replacement listens on the same
  // port, so no client meets a refused or reset connection in the gap.
  send({ type: "replace-me", reason: message });
  setTimeout(() => {
    logLines?.flushSync();
    process.abort();
  }, CATASTROPHIC_ABORT_DEADLINE_MS).unref();
}

async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const watcher of watchers) watcher.close();
  const server = frontEnd?.server;
  await frontEnd?.handOver();
  const drainMs = failedCatastrophically ? CATASTROPHIC_DRAIN_MS : (config?.frontEnd.shutdownTimeoutMs ?? 10_000);
  const deadline = performance.now() + drainMs;
  await server?.drain(drainMs);
  server?.close();
  if (failedCatastrophically) {
    // V8 lost an isolate; process.exit() would hang on it (DESIGN.md).
    logLines?.flushSync();
    process.abort();
  }
  // Responses are out; ctx.waitUntil work may still run, within what is
  // left of the same drain time.
  await frontEnd?.drainApps(Math.max(0, deadline - performance.now()));
  process.exit(0);
}

/** Read the version store again (another front end deployed); a failure is logged, the versions in force stay. */
async function syncVersions(): Promise<void> {
  try {
    await frontEnd?.deployments?.sync();
  } catch (error) {
    log({ level: "error", message: `could not read the deployed versions again, still serving the ones in force: ${error instanceof Error ? error.message : String(error)}` });
  }
}

/** Load the config file again and apply it; any problem keeps the running config and is logged, every problem with its path. */
function reload(): ReloadOutcome | undefined {
  if (frontEnd === undefined || source?.kind !== "serve") return undefined;
  let next: ServeConfig;
  try {
    next = resolveSource(source);
  } catch (error) {
    const message = isConfigError(error) ? error.message : error instanceof Error ? error.message : String(error);
    log({ level: "error", message: `config reload failed, still serving the previous config:\n${message}` });
    return { ok: false, message };
  }
  try {
    const { added, changed, removed, needsRestart } = frontEnd.apply(next, next.frontEnd.shutdownTimeoutMs);
    const list = (names: string[]): string => (names.length === 0 ? "none" : names.join(", "));
    log({ level: "info", message: `config reloaded: added ${list(added)}; changed ${list(changed)}; removed ${list(removed)}` });
    if (needsRestart.length > 0) log({ level: "warn", message: `config reload: changes to ${needsRestart.join(", ")} take effect after a restart` });
    return { ok: true, added, changed, removed, needsRestart };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log({ level: "error", message: `config reload failed, still serving the previous config: ${message}` });
    return { ok: false, message };
  }
}

/** `POST /reload`: this front end reloads now, and the supervisor tells the others (a standby must not keep the old config). */
function reloadFromAdmin(): ReloadOutcome | undefined {
  const outcome = reload();
  if (outcome?.ok === true) send({ type: "config-reloaded" });
  return outcome;
}

let started = false;
let source: FrontEndSource | undefined;

process.on("message", (message: unknown) => {
  if (!isSupervisorMessage(message)) return;
  if (message.type === "start" && !started) {
    started = true;
    source = message.source;
    start(message.source, message.port, message.listen, message.demotedApps, message.recentStallsAt).catch((error: unknown) => {
      fatal("EDGE_RUNTIME_APP_FAILED", error instanceof Error ? (error.stack ?? error.message) : String(error));
    });
  } else if (message.type === "listen") {
    listen().catch((error: unknown) => {
      fatal("EDGE_RUNTIME_APP_FAILED", error instanceof Error ? (error.stack ?? error.message) : String(error));
    });
  } else if (message.type === "demote-inline") {
    inlinePolicy?.adopt(message.app);
  } else if (message.type === "shutdown") {
    void shutdown();
  } else if (message.type === "reload") {
    reload();
  } else if (message.type === "sync-versions") {
    void syncVersions();
  }
});

// The supervisor owns signals; a Ctrl-C reaches the whole process group, so
// ignore it here and wait for the supervisor's orderly "shutdown".
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => void shutdown());
// Losing the supervisor means nobody will restart or stop us: leave.
process.on("disconnect", () => void shutdown());
