/**
 * Server process of the noisy-neighbour bench: one process, one uWS front
 * end (runtime/http-server.ts), two apps driven through the sandbox API as
 * runtime/front-end-main.ts drives one: the victim under /victim/, the
 * attacker under /attacker/, sharing one EntryScheduler and one hang
 * watchdog. `edgehost serve` does not exist yet; this is its smallest stand-in.
 *
 * Usage: node --no-node-snapshot dist/bench/noisy-server.js <attack|none> [bomb-url] [inline-ms] [tenant-nice]
 * Prints `noisy-server: listening on PORT`; SIGTERM stops it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { bundleApp } from "../loader/index.js";
import { AppHost } from "../runtime/app-host.js";
import { requestShortEventLoopSlice } from "./probes/event-loop-slice.js";
import { HangWatchdog } from "../runtime/hang-watchdog.js";
import { HttpServer, singleHandler, type RequestHandler } from "../runtime/http-server.js";
import type { LogSink } from "../runtime/logger.js";
import { DEFAULT_SANDBOX_LIMITS, EntryScheduler, HostWorkBudget, InlinePolicy, lowerTenantThreadPriority, type CancelSignal, type SandboxRequest, type SandboxResponse } from "../sandbox/index.js";
import { ATTACKER_APPS, IDLE_ATTACKER_APP, INLINE_MS_DEFAULT, isAttackName, VICTIM_APP } from "./noisy-apps.js";

/** As runtime/front-end-main.ts: an inline entry this far past its timeout means the thread is lost. */
/** As front-end-main's defaults: a stall is reported at 500 ms, the thread is declared lost at 10 s. */
const HANG_STALL_MS = 500;
const HANG_KILL_MS = 10_000;

/** Counts instead of printing: the harness reads the totals at the end (a log line per breach would itself load the process). */
const counts = new Map<string, number>();
const log: LogSink = (line) => {
  const key = `${line.level}: ${line.message.replace(/\[[^\]]*\]|\d+/g, "").slice(0, 80)}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
};

async function main(): Promise<void> {
  // As runtime/front-end-main.ts: tenant threads below the event loop, first, before any isolate entry.
  const tenantNice = process.argv[5] === undefined ? 0 : Number(process.argv[5]);
  if (tenantNice > 0) {
    const outcome = await lowerTenantThreadPriority(tenantNice);
    if (outcome.problems.length > 0) process.stderr.write(`noisy-server: tenant threads: ${outcome.problems.join("; ")}\n`);
  }
  // Experiment (bench/probes/event-loop-slice.ts): a short EEVDF slice for
  // the event loop, off unless asked for; measured about 10% off the
  // cpu-spin victim's p99, not enough to ship (bench/RESULTS.md).
  const sliceUs = Number(process.env.EDGEHOST_EVENT_LOOP_SLICE_US ?? 0);
  if (sliceUs > 0) {
    const refused = await requestShortEventLoopSlice(sliceUs);
    if (refused !== undefined) process.stderr.write(`noisy-server: no short event-loop slice: ${refused}\n`);
  }
  // A/B runs: EDGEHOST_BENCH_HOST_WORK_MS_PER_S sets the apps' host-work
  // rate (host-work.ts), "off" lifts it; unset, the default.
  const rateSetting = process.env.EDGEHOST_BENCH_HOST_WORK_MS_PER_S;
  const hostWork = (): HostWorkBudget =>
    rateSetting === "off" ? new HostWorkBudget({ msPerSecond: 1e9, burstMs: 1e9 }) : new HostWorkBudget({ msPerSecond: Number(rateSetting) });
  const attack = process.argv[2] ?? "none";
  const bombUrl = process.argv[3] ?? "";
  const inlineMs = process.argv[4] === undefined ? INLINE_MS_DEFAULT : Number(process.argv[4]);
  const attacker = attack === "none" ? IDLE_ATTACKER_APP : isAttackName(attack) ? ATTACKER_APPS[attack] : undefined;
  if (attacker === undefined) throw new Error(`unknown attack ${attack}`);
  const dir = mkdtempSync(join(tmpdir(), "edgehost-noisy-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "victim.ts"), VICTIM_APP);
  writeFileSync(join(dir, "attacker.ts"), attacker);
  const scheduler = new EntryScheduler();
  // No supervisor here: a stall is only logged; inline verdicts are shared by both apps' hosts.
  const guard = new HangWatchdog({ stallGraceMs: HANG_STALL_MS, killGraceMs: HANG_KILL_MS });
  const inlinePolicy = new InlinePolicy();
  const host = async (name: string, env: Record<string, string>, allowPrivateFetch: boolean): Promise<AppHost> => {
    const app = new AppHost(await bundleApp(join(dir, `${name}.ts`)), {
      appName: name,
      env,
      limits: DEFAULT_SANDBOX_LIMITS,
      allowPrivateFetch,
      scheduler,
      log,
      // The harness sees it in the victim's numbers and the process's fate.
      onCatastrophicError: () => log({ level: "error", message: "catastrophic isolate failure" }),
      inlineEntryThresholdMs: inlineMs,
      inlineEntryGuard: guard,
      inlinePolicy,
      ...(rateSetting === undefined ? {} : { hostWork: hostWork() }),
    });
    await app.start();
    return app;
  };
  const victim = await host("victim", {}, false);
  // Only the gzip attackers need a private address: the bomb server on 127.0.0.1.
  const attackerHost = await host("attacker", { BOMB_URL: bombUrl }, attack.startsWith("gzip-"));
  const handler: RequestHandler = {
    appName: "noisy",
    fetch(request: SandboxRequest, signal: CancelSignal): Promise<SandboxResponse> {
      const path = new URL(request.url).pathname;
      return (path.startsWith("/attacker/") ? attackerHost : victim).fetch(request, signal);
    },
    mapStack: (stack) => stack,
  };
  const server = new HttpServer({ host: "127.0.0.1", port: 0, bodyLimitBytes: 1024 * 1024, dispatcher: singleHandler(handler), log });
  const port = await server.listen();
  // Where the victim's latency goes: the event loop's delay (a turn held by
  // the attacker's host work) and the host work charged to the attacker.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const startedAt = performance.now();
  process.stdout.write(`noisy-server: listening on ${port}\n`);
  process.once("SIGTERM", () => {
    server.stopListening();
    server.close();
    loopDelay.disable();
    const seconds = (performance.now() - startedAt) / 1000;
    const probe = {
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      attackerHostWorkMsPerS: attackerHost.hostWork.chargedMs / seconds,
    };
    process.stdout.write(`noisy-server: probe ${JSON.stringify(probe)}\n`);
    process.stdout.write(`noisy-server: log counts ${JSON.stringify(Object.fromEntries(counts))}\n`);
    victim.dispose();
    attackerHost.dispose();
    process.exit(0);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`noisy-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
