/**
 * Entry of a front-end process: uWS listener plus the embedded isolates.
 * Started by the supervisor with --no-node-snapshot and an IPC channel; it
 * is told what to serve, answers "ready" or "fatal", and obeys "shutdown".
 */
import { relative } from "node:path";
import { bundleApp, isLoaderError, watchApp, type AppBundle, type AppWatcher } from "../loader/index.js";
import { DEFAULT_SANDBOX_LIMITS, EntryScheduler, InlinePolicy, isSandboxError, type SandboxLimits } from "../sandbox/index.js";
import { AppHost } from "./app-host.js";
import { RESTARTING } from "./error-response.js";
import { isRuntimeError } from "./errors.js";
import { HangWatchdog } from "./hang-watchdog.js";
import { HttpServer, singleHandler } from "./http-server.js";
import { isSupervisorMessage, type FrontEndMessage } from "./ipc-messages.js";
import { RssBackstop } from "./rss-backstop.js";
import { consoleSink } from "./logger.js";
import type { RunConfig } from "./run-config.js";
import { startupFailureLine } from "./startup-failure.js";

/** After a catastrophic isolate failure, abort even if no replacement arrives. */
const CATASTROPHIC_ABORT_DEADLINE_MS = 10_000;
/** The pipe the supervisor reads stall reports from (fd 4 of the fork's stdio). */
const STALL_REPORT_FD = 4;
/** Drain time for a process that lost an isolate catastrophically. */
const CATASTROPHIC_DRAIN_MS = 2_000;

const log = consoleSink;
let server: HttpServer | undefined;
let host: AppHost | undefined;
let watcher: AppWatcher | undefined;
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

function limitsOf(config: RunConfig): SandboxLimits {
  return {
    ...DEFAULT_SANDBOX_LIMITS,
    cpuLimitMs: config.cpuLimitMs,
    memoryLimitMb: config.memoryLimitMb,
    wallLimitMs: config.wallLimitMs,
    startupLimitMs: config.startupLimitMs,
    subrequestLimit: config.subrequestLimit,
  };
}

async function start(config: RunConfig, port: number, listenNow: boolean, demotedApps: readonly string[], recentStallsAt: readonly number[]): Promise<void> {
  const entryName = relative(process.cwd(), config.entry) || config.entry;
  let bundle: AppBundle;
  try {
    bundle = await bundleApp(config.entry);
  } catch (error) {
    if (isLoaderError(error)) fatal(error.code, error.message);
    throw error;
  }
  inlinePolicy = new InlinePolicy(demotedApps, (app, entryMs) => send({ type: "inline-demoted", app, entryMs }), { recentStallsAt });
  const hangWatchdog =
    config.inlineThresholdMs > 0
      ? new HangWatchdog({
          stallGraceMs: config.hangStallMs,
          killGraceMs: config.hangKillMs,
          reportFd: STALL_REPORT_FD,
          onAppId: (appId, app) => send({ type: "inline-app", appId, app }),
        })
      : undefined;
  host = new AppHost(bundle, {
    appName: entryName,
    env: config.vars,
    limits: limitsOf(config),
    allowPrivateFetch: config.allowPrivateFetch,
    scheduler: new EntryScheduler(config.maxExecuting > 0 ? config.maxExecuting : undefined),
    log,
    onCatastrophicError: (message) => onCatastrophic(message),
    inlineEntryThresholdMs: config.inlineThresholdMs,
    inlinePolicy,
    ...(hangWatchdog ? { inlineEntryGuard: hangWatchdog } : {}),
  });
  try {
    await host.start();
  } catch (error) {
    if (isSandboxError(error)) fatal(error.code, startupFailureLine(entryName, error, bundle));
    throw error;
  }
  const appHost = host;
  const rssLimitMb = config.rssLimitMb > 0 ? config.rssLimitMb : 4 * config.memoryLimitMb + 512;
  new RssBackstop({ limitBytes: rssLimitMb * 1024 * 1024, isolates: () => appHost.isolates, log }).start();
  server = new HttpServer({
    host: config.host,
    port,
    bodyLimitBytes: config.bodyLimitBytes,
    log,
    dispatcher: singleHandler({
      appName: entryName,
      fetch: (request, signal) => appHost.fetch(request, signal),
      mapStack: (stack) => appHost.bundle.mapStack(stack),
      hostMemory: appHost.hostMemory,
    }),
    refuseWith: () => (failedCatastrophically ? RESTARTING : undefined),
  });
  // Watch before announcing readiness: an edit made right after "ready" must not be missed.
  if (config.watch) watch(appHost, entryName);
  if (listenNow) await listen();
  else send({ type: "ready", port, listening: false });
}

/** Bind the port (now, or when a standby is promoted) and say so. */
async function listen(): Promise<void> {
  if (server === undefined) return;
  try {
    await server.listen();
  } catch (error) {
    if (isRuntimeError(error)) fatal(error.code, error.message);
    throw error;
  }
  send({ type: "ready", port: server.port, listening: true });
}

function watch(appHost: AppHost, entryName: string): void {
  const rewatch = (bundle: AppBundle): void => {
    watcher?.close();
    watcher = watchApp(bundle, () => void rebuild());
  };
  const rebuild = async (): Promise<void> => {
    try {
      const bundle = await bundleApp(appHost.bundle.entryPath);
      rewatch(bundle);
      if (bundle.hash === appHost.bundle.hash) return;
      await appHost.reload(bundle);
      log({ level: "info", app: entryName, message: "reloaded" });
    } catch (error) {
      // A broken edit keeps the last good version serving.
      const line = isSandboxError(error)
        ? startupFailureLine(entryName, error, appHost.bundle)
        : error instanceof Error
          ? error.message
          : String(error);
      log({ level: "error", app: entryName, message: `reload failed, still serving the previous version: ${line}` });
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
  setTimeout(() => process.abort(), CATASTROPHIC_ABORT_DEADLINE_MS).unref();
}

async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  watcher?.close();
  await server?.handOver();
  const drainMs = failedCatastrophically ? CATASTROPHIC_DRAIN_MS : (config?.shutdownTimeoutMs ?? 10_000);
  const deadline = performance.now() + drainMs;
  await server?.drain(drainMs);
  server?.close();
  if (failedCatastrophically) {
    // V8 lost an isolate; process.exit() would hang on it (DESIGN.md).
    process.abort();
  }
  // Responses are out; ctx.waitUntil work may still run, within what is
  // left of the same drain time.
  await host?.drain(Math.max(0, deadline - performance.now()));
  process.exit(0);
}

let config: RunConfig | undefined;

process.on("message", (message: unknown) => {
  if (!isSupervisorMessage(message)) return;
  if (message.type === "start" && config === undefined) {
    config = message.config;
    start(message.config, message.port, message.listen, message.demotedApps, message.recentStallsAt).catch((error: unknown) => {
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
  }
});

// The supervisor owns signals; a Ctrl-C reaches the whole process group, so
// ignore it here and wait for the supervisor's orderly "shutdown".
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => void shutdown());
// Losing the supervisor means nobody will restart or stop us: leave.
process.on("disconnect", () => void shutdown());
