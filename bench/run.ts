/**
 * `npm run bench`: every scenario in bench/README.md, side by side in one
 * run, written to bench/RESULTS.md. Stops by itself (every step has a
 * timeout), listens and connects on 127.0.0.1 only, and kills only the
 * processes it started.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from "./bench-options.js";
import { measureProcessStartMs } from "./cold-start.js";
import { runNoisyNeighbour } from "./noisy-neighbour.js";
import { OPS_EDGEHOST_ARGS, runOps, runOpsBench } from "./ops-bench.js";
import { OPS_SECTION, renderOpsSection, type OpMeasurement } from "./ops-report.js";
import { writeReportKeepingSections, writeSection } from "./report-sections.js";
import { runServeBench } from "./serve-bench.js";
import { BENCH_APPS, prepareContender, REPO_ROOT, type BenchApp, type ContenderName, type PreparedContender } from "./contenders.js";
import type { MemoryProbeResult, StartupProbeResult } from "./isolate-probe.js";
import { hasCommand, machineInfo } from "./machine-info.js";
import { renderReport, type BenchResults, type ProcessStartResult, type ThroughputResult } from "./report.js";
import { killOnExit, pinnedCommand, startServerProcess, type ServerProcess } from "./server-process.js";
import { runWrk, type WrkResult } from "./wrk.js";

/** Contenders whose process start is measured (the hello app). */
const PROCESS_START_CONTENDERS: readonly ContenderName[] = ["edgehost", "workerd", "uws", "node-http"];
/** Measured runs per op in the full run (`--ops` has its own options). */
const OPS_RUNS = 5;
/** What one measured op run should take, ms. */
const OPS_TARGET_MS = 150;
/** Longest an isolate probe may take before it is killed. */
const PROBE_TIMEOUT_MS = 120_000;

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One-line reason (tables) from an error whose message may carry a server's output. */
function firstLine(error: unknown): string {
  return errorText(error).split("\n")[0] ?? "";
}

/** Refuse to start without the tools and build the bench needs, saying how to get them. */
function checkPrerequisites(): void {
  const missing: string[] = [];
  if (!hasCommand("wrk")) {
    missing.push("wrk (the load generator) is not installed: `sudo apt-get install -y wrk` on Debian/Ubuntu, or build it from https://github.com/wg/wrk");
  }
  if (!existsSync(join(REPO_ROOT, "dist", "sandbox", "prelude.js")) || !existsSync(join(REPO_ROOT, "dist", "bench", "isolate-probe.js"))) {
    missing.push("the build is missing: run `npm run build` (or use `npm run bench`, which builds first)");
  }
  if (missing.length > 0) {
    for (const line of missing) process.stderr.write(`bench: ${line}\n`);
    process.exit(1);
  }
}

/** Pin servers and wrk to separate CPUs if taskset and two CPUs are there; say why not otherwise. */
function decidePinning(options: BenchOptions): boolean {
  const cpuCount = cpus().length;
  if (!hasCommand("taskset")) {
    progress("taskset not found (Debian package util-linux): running unpinned");
    return false;
  }
  if (options.serverCpu === options.clientCpu || options.serverCpu >= cpuCount || options.clientCpu >= cpuCount) {
    progress(`cannot pin server to CPU ${options.serverCpu} and wrk to CPU ${options.clientCpu} on ${cpuCount} CPU(s): running unpinned`);
    return false;
  }
  // The bench itself (polling, probes' parent) stays off the server's CPU too.
  execFileSync("taskset", ["-a", "-pc", String(options.clientCpu), String(process.pid)], { stdio: "ignore" });
  return true;
}

interface Running {
  readonly contender: ContenderName;
  readonly prepared: PreparedContender;
  readonly server: ServerProcess;
}

async function fetchText(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.text() };
}

/** All contenders on one app: start them, check they answer alike, warm up, then interleaved measured runs. */
/** CPUs to pin to; undefined = unpinned. */
interface Pins {
  readonly server: number | undefined;
  readonly client: number | undefined;
}

async function measureApp(app: BenchApp, options: BenchOptions, pins: Pins, tmpDir: string, notes: string[]): Promise<ThroughputResult[]> {
  const results = new Map<ContenderName, { runs: WrkResult[]; failure?: string }>();
  const running: Running[] = [];
  try {
    for (const contender of options.contenders) {
      results.set(contender, { runs: [] });
      try {
        const prepared = await prepareContender(contender, app, 0, tmpDir);
        try {
          running.push({ contender, prepared, server: await startServerProcess(prepared.spec, { pinCpu: pins.server }) });
        } catch (error) {
          await prepared.cleanup();
          throw error;
        }
        progress(`${app.name}: ${contender} started`);
      } catch (error) {
        progress(`${app.name}: ${contender} did not start: ${errorText(error)}`);
        results.set(contender, { runs: [], failure: firstLine(error) });
      }
    }
    let reference: { contender: ContenderName; body: string } | undefined;
    for (const { contender, server } of [...running]) {
      const answer = await fetchText(`${server.origin}${app.path}`).catch((error: unknown) => ({ status: 0, body: errorText(error) }));
      if (answer.status !== 200) {
        results.set(contender, { runs: [], failure: `answered ${answer.status} to GET ${app.path}` });
        running.splice(running.findIndex((each) => each.server === server), 1);
        await server.stop();
        continue;
      }
      reference ??= { contender, body: answer.body };
      if (answer.body !== reference.body) {
        notes.push(`${app.name}: ${contender}'s body differs from ${reference.contender}'s: ${JSON.stringify(answer.body)} vs ${JSON.stringify(reference.body)}`);
      }
    }
    const wrkOptions = { connections: options.connections, threads: options.threads, pinCpu: pins.client };
    if (options.warmupS > 0) {
      for (const { contender, server } of running) {
        progress(`${app.name}: warming up ${contender} for ${options.warmupS} s`);
        await runWrk({ ...wrkOptions, url: `${server.origin}${app.path}`, durationS: options.warmupS }).catch(() => undefined);
      }
    }
    // Round-robin, so that noise from elsewhere on the machine spreads over all contenders.
    for (let round = 1; round <= options.runs; round++) {
      for (const { contender, server } of running) {
        const entry = results.get(contender);
        if (!entry || entry.failure !== undefined) continue;
        try {
          const run = await runWrk({ ...wrkOptions, url: `${server.origin}${app.path}`, durationS: options.durationS });
          entry.runs.push(run);
          progress(`${app.name}: ${contender} run ${round}/${options.runs}: ${Math.round(run.requestsPerSec)} req/s, p99 ${run.latencyP99Ms.toFixed(2)} ms`);
          if (run.socketErrors + run.non2xx > 0) {
            notes.push(`${app.name}: ${contender} run ${round} had ${run.socketErrors} socket errors and ${run.non2xx} non-2xx responses`);
          }
        } catch (error) {
          entry.failure = firstLine(error);
          progress(`${app.name}: ${contender} run ${round} failed: ${errorText(error)}`);
        }
      }
    }
  } finally {
    for (const { prepared, server } of running) {
      await server.stop();
      await prepared.cleanup();
    }
  }
  return options.contenders.map((contender) => {
    const entry = results.get(contender) ?? { runs: [] };
    return entry.failure === undefined ? { app: app.name, contender, runs: entry.runs } : { app: app.name, contender, runs: entry.runs, failure: entry.failure };
  });
}

async function measureProcessStarts(options: BenchOptions, pinCpu: number | undefined, tmpDir: string): Promise<ProcessStartResult[]> {
  const results: ProcessStartResult[] = [];
  for (const contender of PROCESS_START_CONTENDERS.filter((name) => options.contenders.includes(name))) {
    const samplesMs: number[] = [];
    try {
      for (let run = 0; run < options.coldStartRuns; run++) {
        samplesMs.push(await measureProcessStartMs(contender, BENCH_APPS.hello, { pinCpu, tmpDir }));
      }
      progress(`process start: ${contender}: ${samplesMs.map((ms) => ms.toFixed(1)).join(", ")} ms`);
      results.push({ contender, samplesMs });
    } catch (error) {
      progress(`process start: ${contender} failed: ${errorText(error)}`);
      results.push({ contender, samplesMs, failure: firstLine(error) });
    }
  }
  return results;
}

/** Run dist/bench/isolate-probe.js in a fresh process (pinned like a server) and parse its JSON line. */
function runProbe<T>(mode: "startup" | "memory", count: number, pinCpu: number | undefined): Promise<T> {
  const args = [
    "--no-node-snapshot",
    "--expose-gc",
    join(REPO_ROOT, "dist", "bench", "isolate-probe.js"),
    "--entry",
    join(REPO_ROOT, BENCH_APPS.hello.entry),
    "--mode",
    mode,
    "--count",
    String(count),
  ];
  const [command, fullArgs] = pinnedCommand(process.execPath, args, pinCpu);
  return new Promise((resolve, reject) => {
    const child = execFile(command, fullArgs, { timeout: PROBE_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`isolate probe (${mode}) failed: ${error.message}${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        reject(new Error(`isolate probe (${mode}) printed no JSON: ${stdout}${stderr}`));
      }
    });
    killOnExit(child);
  });
}

async function main(argv: readonly string[]): Promise<number> {
  // The noisy-neighbour run is a scenario of its own, with its own options (bench/README.md).
  if (argv[0] === "--noisy") return runNoisyNeighbour(argv.slice(1));
  if (argv[0] === "--ops") return runOpsBench(argv.slice(1));
  if (argv[0] === "--serve") return runServeBench(argv.slice(1));
  let options: BenchOptions | null;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    process.stderr.write(`bench: ${errorText(error)}\n${BENCH_USAGE}\n`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  checkPrerequisites();
  const pinned = decidePinning(options);
  const pins: Pins = pinned ? { server: options.serverCpu, client: options.clientCpu } : { server: undefined, client: undefined };
  const startedAt = new Date();
  const tmpDir = await mkdtemp(join(tmpdir(), "edgehost-bench-"));
  process.once("exit", () => rmSync(tmpDir, { recursive: true, force: true }));
  const notes: string[] = [];
  const throughput: ThroughputResult[] = [];
  let processStart: ProcessStartResult[] = [];
  let isolateStartup: BenchResults["isolateStartup"];
  let isolateMemory: BenchResults["isolateMemory"];
  let ops: OpMeasurement[] | undefined;
  let opsFailure: string | undefined;
  const opsNotes: string[] = [];
  try {
    if (!options.skipThroughput) {
      for (const app of options.apps) {
        throughput.push(...(await measureApp(BENCH_APPS[app], options, pins, tmpDir, notes)));
      }
    }
    if (!options.skipColdStart) processStart = await measureProcessStarts(options, pins.server, tmpDir);
    if (!options.skipIsolates && options.contenders.includes("edgehost")) {
      progress(`isolate start-up: ${options.isolateRuns} isolates per case`);
      isolateStartup = await runProbe<StartupProbeResult>("startup", options.isolateRuns, pins.server).catch((error: unknown) => ({ failure: firstLine(error) }));
      progress(`isolate memory: ${options.idleIsolates} idle isolates`);
      isolateMemory = await runProbe<MemoryProbeResult>("memory", options.idleIsolates, pins.server).catch((error: unknown) => ({ failure: firstLine(error) }));
    }
    if (!options.skipOps && options.contenders.includes("edgehost") && options.contenders.includes("workerd")) {
      progress("Web API operations: edgehost and workerd");
      ops = await runOps({ runs: OPS_RUNS, targetMs: OPS_TARGET_MS, serverCpu: pins.server, clientCpu: pins.client }, opsNotes).catch((error: unknown) => {
        opsFailure = firstLine(error);
        return [];
      });
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  const results: BenchResults = {
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(" ")}` : ""}`,
    startedAt,
    machine: machineInfo(),
    options,
    pinned,
    throughput,
    processStart,
    ...(isolateStartup ? { isolateStartup } : {}),
    ...(isolateMemory ? { isolateMemory } : {}),
    notes,
  };
  await writeReportKeepingSections(options.outPath, renderReport(results));
  if (ops !== undefined) {
    if (opsFailure !== undefined) opsNotes.push(`the run failed: ${opsFailure}`);
    const section = renderOpsSection(ops, {
      command: results.command,
      startedAt,
      pinned,
      serverCpu: options.serverCpu,
      clientCpu: options.clientCpu,
      runs: OPS_RUNS,
      targetMs: OPS_TARGET_MS,
      edgehostArgs: OPS_EDGEHOST_ARGS,
      notes: opsNotes,
    });
    await writeSection(options.outPath, OPS_SECTION, section);
  }
  progress(`wrote ${relative(process.cwd(), options.outPath) || options.outPath}`);
  const failed =
    throughput.some((result) => result.failure !== undefined) ||
    processStart.some((result) => result.failure !== undefined) ||
    (isolateStartup !== undefined && "failure" in isolateStartup) ||
    (isolateMemory !== undefined && "failure" in isolateMemory) ||
    opsFailure !== undefined ||
    (ops ?? []).some((each) => each.failure !== undefined);
  return failed ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the servers it started`);
    // The exit hook in server-process.ts kills what is still running.
    process.exit(130);
  });
}

process.exitCode = await main(process.argv.slice(2));
