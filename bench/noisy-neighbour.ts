/**
 * `npm run bench -- --noisy`: the noisy-neighbour run of issue 5. For the
 * victim alone and then beside each attacker (bench/noisy-apps.ts), one
 * server process (bench/noisy-server.ts) hosts both apps; wrk loads the
 * victim while the harness drives the attacker; reported per attack: the
 * victim's p99 and errors against the victim alone, and the process's peak
 * RSS (VmHWM). Writes its section of bench/RESULTS.md, keeping the others.
 * 127.0.0.1 only; every step is bounded; kills only what it started.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { REPO_ROOT } from "./contenders.js";
import { hasCommand, machineInfo } from "./machine-info.js";
import { ATTACK_NAMES, INLINE_MS_DEFAULT, isAttackName, type AttackName } from "./noisy-apps.js";
import type { PacedLoadResult } from "./paced-load.js";
import { runPacedLoadChild } from "./paced-load-child.js";
import { sectionMarkers, writeSection } from "./report-sections.js";
import { positiveIntegerOption, scenarioOptions } from "./scenario-options.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";
import { runWrk } from "./wrk.js";
import { TENANT_THREAD_NICE } from "../sandbox/index.js";

/** The app memory limit the RSS target is stated in (DEFAULT_SANDBOX_LIMITS.memoryLimitMb). */
const APP_MEMORY_LIMIT_MB = 128;
/** Decoded size of one gzip bomb (the subrequest response limit); about 64 KB compressed. */
const BOMB_DECODED_BYTES = 64 * 1024 * 1024;
/** Attacker requests in flight at once. */
const ATTACKER_CONCURRENCY = 2;
/** Longest one attacker request may take before the harness gives up on it (the wall limit is 30 s). */
const ATTACKER_REQUEST_TIMEOUT_MS = 35_000;
/** The background-loop attacker needs no load (its loop runs by itself): one request a second keeps it fed. */
const BACKGROUND_PACE_MS = 1000;
/**
 * Default attacker request rate (all loops together). The attacks are what
 * one request makes the server do; an attacker answered by fast 503s would
 * otherwise turn into a flood of cheap requests, which measures the harness's
 * HTTP client (on the load generator's core) more than the server.
 */
const DEFAULT_ATTACKER_RATE = 100;
/** Where this run's section goes in RESULTS.md. */
/** One section per load kind and server CPU set, so that runs of different set-ups sit side by side. */
function sectionName(options: NoisyOptions): string {
  const base = options.load === "paced" && options.serverCpus === "0" ? "noisy-neighbour" : `noisy-neighbour-${options.load}-cpus-${options.serverCpus.replace(/[^0-9]+/g, "-")}`;
  const withInline = options.inlineMs === INLINE_MS_DEFAULT ? base : `${base}-inline-${options.inlineMs}`;
  return options.tenantNice === 0 ? withInline : `${withInline}-nice-${options.tenantNice}`;
}

export const NOISY_USAGE = `Usage: npm run bench -- --noisy [options]
  --duration S      seconds of victim load per scenario (default 10)
  --load KIND       paced (default): the victim gets --rate requests/s, open loop, latency
                    counted from when each request was due; saturated: wrk keeps
                    --connections busy (closed loop; p99 then measures the share of the core)
  --rate N          victim requests per second under paced load (default 5000)
  --connections N   connections on the victim (default 32 paced, 10 saturated)
  --attacker-rate N attacker requests per second at most (default ${DEFAULT_ATTACKER_RATE})
  --server-cpus L   CPUs the server may use, as taskset -c takes them (default 0; the load
                    generator and the attacker get the other CPU)
  --inline-ms N     the front end's inline threshold, as \`edgehost run --inline-ms\` (default ${INLINE_MS_DEFAULT};
                    0: no entry runs on the front end's thread, so no app can stall it)
  --tenant-nice N   the tenant threads' nice value, as \`edgehost run --tenant-nice\` (default 0, as
                    edgehost's: the event loop's priority; ${TENANT_THREAD_NICE} is the value measured for the option)
  --attacks LIST    comma-separated: ${ATTACK_NAMES.join(",")} (default all)
  --out PATH        report file whose noisy-neighbour section is replaced (default bench/RESULTS.md)`;

type LoadKind = "paced" | "saturated";

interface NoisyOptions {
  readonly durationS: number;
  readonly load: LoadKind;
  readonly rate: number;
  readonly connections: number;
  readonly attackerRate: number;
  readonly serverCpus: string;
  readonly attacks: readonly AttackName[];
  /** Entries averaging under this run inline on the front end's thread; 0 = never. */
  readonly inlineMs: number;
  /** The tenant threads' nice value, as `edgehost run --tenant-nice`. */
  readonly tenantNice: number;
  readonly outPath: string;
}

type Scenario = AttackName | "none";

/** What both load generators report about the victim. */
type VictimResult = Pick<PacedLoadResult, "requestsPerSec" | "latencyP50Ms" | "latencyP99Ms" | "socketErrors" | "non2xx">;

interface ScenarioResult {
  readonly scenario: Scenario;
  readonly victim?: VictimResult;
  readonly idleRssMb: number;
  readonly peakRssMb: number | undefined;
  /** Attacker outcomes: status code or error name -> count. */
  readonly attacker: Readonly<Record<string, number>>;
  /** What the server measured of itself (bench/noisy-server.ts), if it said. */
  readonly probe?: ServerProbe;
  /** How the server process ended, if it died during the scenario. */
  readonly died?: string;
  readonly failure?: string;
}

/** The server's own numbers, printed as it stops. */
interface ServerProbe {
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly attackerHostWorkMsPerS: number;
}

function serverProbe(output: string): ServerProbe | undefined {
  const line = /noisy-server: probe (\{.*\})/.exec(output);
  return line === null ? undefined : (JSON.parse(line[1] as string) as ServerProbe);
}

function progress(message: string): void {
  process.stderr.write(`bench noisy: ${message}\n`);
}

function inlineMsOption(value: string | undefined): number {
  if (value === undefined) return INLINE_MS_DEFAULT;
  const ms = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(ms)) throw new Error(`--inline-ms expects a number of ms (0 or more), got ${JSON.stringify(value)}`);
  return ms;
}

function tenantNiceOption(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > 19) throw new Error(`--tenant-nice expects an integer from 0 to 19, got ${JSON.stringify(value)}`);
  return Number(value);
}

function parseNoisyOptions(argv: readonly string[]): NoisyOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: "string" },
      load: { type: "string" },
      rate: { type: "string" },
      connections: { type: "string" },
      "attacker-rate": { type: "string" },
      "server-cpus": { type: "string" },
      attacks: { type: "string" },
      "inline-ms": { type: "string" },
      "tenant-nice": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help === true) return null;
  const attacks = values.attacks === undefined ? [...ATTACK_NAMES] : values.attacks.split(",").map((name) => name.trim());
  const unknown = attacks.filter((name) => !isAttackName(name));
  if (unknown.length > 0) throw new Error(`unknown attack(s): ${unknown.join(", ")}`);
  const load = values.load ?? "paced";
  if (load !== "paced" && load !== "saturated") throw new Error(`--load expects paced or saturated, got ${JSON.stringify(load)}`);
  const serverCpus = values["server-cpus"] ?? "0";
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(serverCpus)) throw new Error(`--server-cpus expects a CPU list such as 0 or 0,1, got ${JSON.stringify(serverCpus)}`);
  return {
    durationS: positiveIntegerOption("duration", values.duration, 10),
    load,
    rate: positiveIntegerOption("rate", values.rate, 5000),
    connections: positiveIntegerOption("connections", values.connections, load === "paced" ? 32 : 10),
    attackerRate: positiveIntegerOption("attacker-rate", values["attacker-rate"], DEFAULT_ATTACKER_RATE),
    serverCpus,
    attacks: attacks.filter(isAttackName),
    inlineMs: inlineMsOption(values["inline-ms"]),
    tenantNice: tenantNiceOption(values["tenant-nice"]),
    outPath: values.out ?? join(REPO_ROOT, "bench", "RESULTS.md"),
  };
}

/** A field of /proc/PID/status in MB (VmRSS, VmHWM), or undefined once the process is gone. */
function procStatusMb(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A 127.0.0.1 server answering every request with the same gzip bomb. */
async function startBombServer(): Promise<{ server: Server; url: string }> {
  const bomb = gzipSync(Buffer.alloc(BOMB_DECODED_BYTES), { level: 9 });
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/octet-stream", "content-encoding": "gzip", "content-length": bomb.byteLength });
    response.end(bomb);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("bomb server has no port");
  progress(`gzip bomb: ${(bomb.byteLength / 1024).toFixed(0)} KB decoding to ${BOMB_DECODED_BYTES / 1024 / 1024} MiB`);
  return { server, url: `http://127.0.0.1:${address.port}/bomb` };
}

async function get(url: string, signal: AbortSignal): Promise<string> {
  try {
    const response = await fetch(url, { signal });
    await response.arrayBuffer();
    return String(response.status);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.name) : "error";
  }
}

/** Attacker requests until `stop` aborts; resolves with the outcome counts. */
async function driveAttacker(origin: string, scenario: Scenario, attackerRate: number, stop: AbortSignal): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  // Each loop sends at most its share of the rate: a request that came back sooner waits out the rest of its gap.
  const gapMs = (1000 * ATTACKER_CONCURRENCY) / attackerRate;
  const loop = async (): Promise<void> => {
    for (let i = 0; !stop.aborted; i++) {
      const sentAt = performance.now();
      // The sort attacker: five fast requests put its isolate inline, then the sort.
      const path = scenario === "sort" && i % 6 !== 5 ? "/attacker/fast" : "/attacker/";
      const outcome = await get(`${origin}${path}`, AbortSignal.any([stop, AbortSignal.timeout(ATTACKER_REQUEST_TIMEOUT_MS)]));
      // Cut short by the end of the scenario: not an outcome of the attack.
      if (stop.aborted) break;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const waitMs = scenario === "background-loop" ? BACKGROUND_PACE_MS : gapMs - (performance.now() - sentAt);
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
  if (scenario === "none") return outcomes;
  await Promise.all(Array.from({ length: ATTACKER_CONCURRENCY }, loop));
  return outcomes;
}

/** The paced load generator on the client CPU, so the harness's attacker loop cannot delay it. */
function runPacedLoad(url: string, options: NoisyOptions, clientCpu: number | undefined): Promise<VictimResult> {
  return runPacedLoadChild({ url, rate: options.rate, durationS: options.durationS, connections: options.connections, pinCpu: clientCpu });
}

async function runScenario(scenario: Scenario, options: NoisyOptions, bombUrl: string, pins: { server?: string; client?: number }): Promise<ScenarioResult> {
  progress(`${scenario}: starting`);
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess(
      {
        command: process.execPath,
        args: ["--no-node-snapshot", join(REPO_ROOT, "dist", "bench", "noisy-server.js"), scenario, bombUrl, String(options.inlineMs), String(options.tenantNice)],
        ready: { kind: "stdout", pattern: /noisy-server: listening on (\d+)/ },
      },
      { pinCpu: pins.server },
    );
    const signal = AbortSignal.timeout(10_000);
    const warm = [await get(`${server.origin}/victim/`, signal)];
    if (scenario === "none" || scenario === "sort") for (let i = 0; i < 6; i++) warm.push(await get(`${server.origin}/attacker/fast`, signal));
    if (warm.some((status) => status !== "200")) throw new Error(`warm-up answered ${warm.join(",")}`);
    const idleRssMb = procStatusMb(server.pid, "VmRSS") ?? 0;
    const stop = new AbortController();
    const attacker = driveAttacker(server.origin, scenario, options.attackerRate, stop.signal);
    const url = `${server.origin}/victim/`;
    const victim =
      options.load === "paced"
        ? await runPacedLoad(url, options, pins.client)
        : await runWrk({ url, connections: options.connections, threads: 1, durationS: options.durationS, pinCpu: pins.client });
    stop.abort();
    const attackerOutcomes = await attacker;
    const peakRssMb = procStatusMb(server.pid, "VmHWM");
    const alive = peakRssMb !== undefined;
    const stopped = await server.stop(3000);
    const died = alive ? undefined : (stopped.signal ?? `exit code ${String(stopped.code)}`);
    const probe = serverProbe(server.output());
    return { scenario, victim, idleRssMb, peakRssMb, attacker: attackerOutcomes, ...(probe ? { probe } : {}), ...(died ? { died } : {}) };
  } catch (error) {
    await server?.stop(0);
    return { scenario, idleRssMb: 0, peakRssMb: undefined, attacker: {}, failure: (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "" };
  }
}

function mb(value: number | undefined): string {
  return value === undefined ? "n/a" : value.toFixed(0);
}

function renderSection(results: readonly ScenarioResult[], options: NoisyOptions, command: string, pins: { server?: string; client?: number }): string {
  const markers = sectionMarkers(sectionName(options));
  const load =
    options.load === "paced"
      ? `paced, open loop: ${options.rate} requests/s over ${options.connections} connections for ${options.durationS}s, latency counted from when each request was due (bench/paced-load.ts)`
      : `saturated: wrk -t 1 -c ${options.connections} -d ${options.durationS}s`;
  const machine = machineInfo();
  const alone = results.find((result) => result.scenario === "none")?.victim;
  const lines = [
    markers.start,
    "## Noisy neighbour (issue 5)",
    "",
    `Command: \`${command}\`; ${new Date().toISOString()}; Node ${process.version}; ${machine.cpuModel} x ${cpus().length}; ` +
      `${pins.server === undefined ? "unpinned" : `server on CPU ${pins.server}, load generator and attacker on CPU ${String(pins.client)}`}; victim load ${load}; ` +
      `attacker: ${ATTACKER_CONCURRENCY} requests in flight, at most ${options.attackerRate}/s; default limits (${APP_MEMORY_LIMIT_MB} MB, 50 ms CPU); ` +
      (options.inlineMs === 0 ? "inline entries off (--inline-ms 0): every entry, the victim's too, runs on isolated-vm's thread pool" : `inline threshold ${options.inlineMs} ms`) +
      (options.tenantNice === 0 ? "." : `; tenant threads at nice ${options.tenantNice} (--tenant-nice ${options.tenantNice}).`),
    "",
    `Targets: victim errors 0, victim p99 under 2x alone, peak RSS (VmHWM) under 2 x ${APP_MEMORY_LIMIT_MB} MB + the idle process (its RSS after boot and warm-up).`,
    "",
    "| attack | victim req/s | victim p99 ms | p99 vs alone | victim errors | peak RSS MB | RSS target MB | event-loop delay p99 / max ms | attacker host work ms/s | attacker outcomes | server | targets |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
  ];
  for (const result of results) {
    const name = result.scenario === "none" ? "none (victim alone)" : result.scenario;
    if (result.failure !== undefined || result.victim === undefined) {
      lines.push(`| ${name} | failed: ${result.failure ?? "no result"} | | | | | | | | | | no |`);
      continue;
    }
    const victim = result.victim;
    const errors = victim.socketErrors + victim.non2xx;
    const errorText = errors === 0 ? "0" : `${errors} (${victim.socketErrors} socket, ${victim.non2xx} non-2xx)`;
    const ratio = alone === undefined ? undefined : victim.latencyP99Ms / alone.latencyP99Ms;
    const rssTarget = 2 * APP_MEMORY_LIMIT_MB + result.idleRssMb;
    const met = errors === 0 && ratio !== undefined && ratio < 2 && result.peakRssMb !== undefined && result.peakRssMb < rssTarget && result.died === undefined;
    const outcomes = Object.entries(result.attacker).map(([outcome, count]) => `${outcome}: ${count}`).join(", ") || "-";
    const probe = result.probe;
    const loop = probe === undefined ? "n/a" : `${probe.loopDelayP99Ms.toFixed(1)} / ${probe.loopDelayMaxMs.toFixed(1)}`;
    const hostWork = probe === undefined ? "n/a" : probe.attackerHostWorkMsPerS.toFixed(0);
    lines.push(
      `| ${name} | ${victim.requestsPerSec.toFixed(0)} | ${victim.latencyP99Ms.toFixed(2)} | ${ratio === undefined ? "n/a" : `${ratio.toFixed(2)}x`} | ${errorText} | ${mb(result.peakRssMb)} | ${mb(rssTarget)} | ${loop} | ${hostWork} | ${outcomes} | ${result.died === undefined ? "up" : `died (${result.died})`} | ${met ? "met" : "no"} |`,
    );
  }
  lines.push("", "Victim errors are socket errors (and, paced, requests unanswered at the end) plus non-2xx answers. A server that died has no peak RSS to read (n/a).", markers.end);
  return lines.join("\n");
}

/** "0,2-3" -> [0, 2, 3]. */
function expandCpuList(list: string): number[] {
  return list.split(",").flatMap((part) => {
    const [from, to] = part.split("-").map(Number) as [number, number | undefined];
    return Array.from({ length: (to ?? from) - from + 1 }, (_, index) => from + index);
  });
}

/** Entry of `npm run bench -- --noisy ...`; resolves with the exit code. */
export async function runNoisyNeighbour(argv: readonly string[]): Promise<number> {
  const options = scenarioOptions("noisy", NOISY_USAGE, argv, parseNoisyOptions);
  if (typeof options === "number") return options;
  if (!hasCommand("wrk")) {
    process.stderr.write("bench noisy: wrk (the load generator) is not installed: `sudo apt-get install -y wrk`\n");
    return 1;
  }
  if (!existsSync(join(REPO_ROOT, "dist", "bench", "noisy-server.js"))) {
    process.stderr.write("bench noisy: the build is missing: run `npm run build` (or `npm run bench -- --noisy`, which builds first)\n");
    return 1;
  }
  const pinned = hasCommand("taskset") && cpus().length >= 2;
  // The load generator and the attacker get the first CPU the server may not use (the last CPU if it may use all).
  const serverCpus = expandCpuList(options.serverCpus);
  const clientCpu = [...Array(cpus().length).keys()].find((cpu) => !serverCpus.includes(cpu)) ?? cpus().length - 1;
  const pins = pinned ? { server: options.serverCpus, client: clientCpu } : {};
  if (pinned) execFileSync("taskset", ["-a", "-pc", String(clientCpu), String(process.pid)], { stdio: "ignore" });
  const bomb = await startBombServer();
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of ["none", ...options.attacks] as const) {
      const result = await runScenario(scenario, options, bomb.url, pins);
      results.push(result);
      progress(`${scenario}: ${result.failure ?? `p99 ${result.victim?.latencyP99Ms.toFixed(2)} ms, errors ${(result.victim?.socketErrors ?? 0) + (result.victim?.non2xx ?? 0)}, peak RSS ${mb(result.peakRssMb)} MB${result.died ? `, died (${result.died})` : ""}`}`);
    }
  } finally {
    bomb.server.closeAllConnections();
    bomb.server.close();
  }
  const section = renderSection(results, options, `npm run bench -- --noisy${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`, pins);
  process.stdout.write(`${section}\n`);
  await writeSection(options.outPath, sectionName(options), section);
  progress(`wrote the noisy-neighbour section of ${options.outPath}`);
  return results.some((result) => result.failure !== undefined) ? 1 : 0;
}
