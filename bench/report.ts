import { isValidationRun, type BenchOptions } from "./bench-options.js";
import { CONTENDER_LABELS, BENCH_APPS, type ContenderName } from "./contenders.js";
import type { BenchAppName } from "./contenders/reference-apps.js";
import type { IsolateStartSample, MemoryProbeResult } from "./isolate-probe.js";
import type { MachineInfo } from "./machine-info.js";
import { median, medianRun } from "./stats.js";
import type { WrkResult } from "./wrk.js";

/** All measured runs of one contender on one app. */
export interface ThroughputResult {
  readonly app: BenchAppName;
  readonly contender: ContenderName;
  readonly runs: readonly WrkResult[];
  /** Set when the contender could not be measured. */
  readonly failure?: string;
}

export interface ProcessStartResult {
  readonly contender: ContenderName;
  readonly samplesMs: readonly number[];
  readonly failure?: string;
}

export interface IsolateStartupResult {
  readonly firstInProcess: IsolateStartSample;
  readonly newApp: readonly IsolateStartSample[];
  readonly warmCache: readonly IsolateStartSample[];
}

/** Everything one `npm run bench` measured. */
export interface BenchResults {
  readonly command: string;
  readonly startedAt: Date;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  /** Whether servers and wrk were pinned to separate CPUs. */
  readonly pinned: boolean;
  readonly throughput: readonly ThroughputResult[];
  readonly processStart: readonly ProcessStartResult[];
  readonly isolateStartup?: IsolateStartupResult | { readonly failure: string };
  readonly isolateMemory?: MemoryProbeResult | { readonly failure: string };
  /** Things that went wrong or look suspicious (bodies that differ between contenders, errors under load). */
  readonly notes: readonly string[];
}

/** Targets from the issue, checked in the reading. */
const TARGETS = { vsWorkerd: 1.5, p99Ms: 10, isolateFirstResponseMs: 5, idleIsolateRssMb: 3 };

const MB = 1024 * 1024;

function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

function rate(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function ratio(value: number, base: number | undefined): string {
  return base === undefined || base === 0 ? "n/a" : `${fixed(value / base, 2)}x`;
}

function bestRun(result: ThroughputResult | undefined): WrkResult | undefined {
  if (!result || result.failure !== undefined || result.runs.length === 0) return undefined;
  return medianRun(result.runs, (run) => run.requestsPerSec);
}

function sampleMedians(samples: readonly IsolateStartSample[]): IsolateStartSample {
  return {
    createMs: median(samples.map((sample) => sample.createMs)),
    firstResponseMs: median(samples.map((sample) => sample.firstResponseMs)),
    totalMs: median(samples.map((sample) => sample.totalMs)),
  };
}

function throughputSection(results: BenchResults): string[] {
  const { options } = results;
  const lines = [
    "## Throughput and latency",
    "",
    `wrk, ${options.connections} connections, ${options.threads} thread(s), ${options.durationS} s per run after ${options.warmupS} s of warm-up; ` +
      `median of ${options.runs} run(s) by requests/s (p50/p99 are from that same run).`,
    "",
  ];
  for (const app of options.apps) {
    const forApp = results.throughput.filter((result) => result.app === app);
    if (forApp.length === 0) continue;
    const workerd = bestRun(forApp.find((result) => result.contender === "workerd"));
    const uws = bestRun(forApp.find((result) => result.contender === "uws"));
    lines.push(`### ${app} (\`GET ${BENCH_APPS[app].path}\`, ${BENCH_APPS[app].entry})`, "");
    lines.push("| contender | requests/s | p50 ms | p99 ms | vs workerd | vs raw uWS | all runs (req/s) | errors |");
    lines.push("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    for (const result of forApp) {
      const run = bestRun(result);
      if (!run) {
        lines.push(`| ${CONTENDER_LABELS[result.contender]} | failed: ${result.failure ?? "no runs"} | | | | | | |`);
        continue;
      }
      const errors = result.runs.reduce((sum, each) => sum + each.socketErrors + each.non2xx, 0);
      lines.push(
        `| ${CONTENDER_LABELS[result.contender]} | ${rate(run.requestsPerSec)} | ${fixed(run.latencyP50Ms, 2)} | ${fixed(run.latencyP99Ms, 2)} | ` +
          `${ratio(run.requestsPerSec, workerd?.requestsPerSec)} | ${ratio(run.requestsPerSec, uws?.requestsPerSec)} | ` +
          `${result.runs.map((each) => rate(each.requestsPerSec)).join(", ")} | ${errors} |`,
      );
    }
    lines.push("");
  }
  return lines;
}

function startSection(results: BenchResults): string[] {
  const lines: string[] = [];
  if (results.processStart.length > 0) {
    lines.push(
      "## Cold start: process start to first response",
      "",
      `hello app; from \`spawn\` to the first 200 on \`GET /\` (polled every ms), server pinned like above; median of ${results.options.coldStartRuns}.`,
      "",
      "| contender | median ms | all runs (ms) |",
      "| --- | ---: | --- |",
    );
    for (const result of results.processStart) {
      if (result.failure !== undefined || result.samplesMs.length === 0) {
        lines.push(`| ${CONTENDER_LABELS[result.contender]} | failed: ${result.failure ?? "no runs"} | |`);
        continue;
      }
      lines.push(`| ${CONTENDER_LABELS[result.contender]} | ${fixed(median(result.samplesMs), 1)} | ${result.samplesMs.map((ms) => fixed(ms, 1)).join(", ")} |`);
    }
    lines.push("");
  }
  const startup = results.isolateStartup;
  if (startup) {
    lines.push("## Cold start: isolate creation to first response (in process)", "");
    if ("failure" in startup) lines.push(`failed: ${startup.failure}`, "");
    else {
      const newApp = sampleMedians(startup.newApp);
      const warm = sampleMedians(startup.warmCache);
      lines.push(
        `hello app through \`AppIsolate.create\` and one \`fetch\` (dist/sandbox), no HTTP; median of ${startup.newApp.length}.`,
        "",
        "| case | create ms | first fetch ms | total ms |",
        "| --- | ---: | ---: | ---: |",
        `| first isolate in the process (also produces the prelude's code cache) | ${fixed(startup.firstInProcess.createMs, 2)} | ${fixed(startup.firstInProcess.firstResponseMs, 2)} | ${fixed(startup.firstInProcess.totalMs, 2)} |`,
        `| new app (no code cache for its bundle) | ${fixed(newApp.createMs, 2)} | ${fixed(newApp.firstResponseMs, 2)} | ${fixed(newApp.totalMs, 2)} |`,
        `| same app again (bundle code cache warm) | ${fixed(warm.createMs, 2)} | ${fixed(warm.firstResponseMs, 2)} | ${fixed(warm.totalMs, 2)} |`,
        "",
      );
    }
  }
  const memory = results.isolateMemory;
  if (memory) {
    lines.push("## Memory per idle isolate", "");
    if ("failure" in memory) lines.push(`failed: ${memory.failure}`, "");
    else {
      lines.push(
        `${memory.count} hello-app isolates in one process, each served one request; RSS after \`gc()\`.`,
        "",
        "| RSS baseline MB | RSS with isolates MB | RSS per isolate MB | V8 heap used per isolate MB | RSS after disposing them MB |",
        "| ---: | ---: | ---: | ---: | ---: |",
        `| ${fixed(memory.rssBaselineBytes / MB, 1)} | ${fixed(memory.rssWithIsolatesBytes / MB, 1)} | ${fixed(memory.rssPerIsolateBytes / MB, 2)} | ` +
          `${fixed(memory.heapUsedPerIsolateBytes / MB, 2)} | ${fixed(memory.rssAfterDisposeBytes / MB, 1)} |`,
        "",
      );
    }
  }
  return lines;
}

function met(isMet: boolean): string {
  return isMet ? "met" : "**not met**";
}

function readingSection(results: BenchResults): string[] {
  const lines = ["## Reading", ""];
  if (isValidationRun(results.options)) {
    lines.push("- **Validation run**: shorter than the defaults, to check the harness. Do not quote these numbers.");
  }
  if (!results.pinned) lines.push("- Server and wrk were **not** pinned to separate CPUs; throughput numbers are not comparable to pinned runs.");
  for (const app of results.options.apps) {
    const forApp = results.throughput.filter((result) => result.app === app);
    const edgehost = bestRun(forApp.find((result) => result.contender === "edgehost"));
    const workerd = bestRun(forApp.find((result) => result.contender === "workerd"));
    const uws = bestRun(forApp.find((result) => result.contender === "uws"));
    if (!edgehost) continue;
    const parts = [`- ${app}: edgehost ${rate(edgehost.requestsPerSec)} req/s`];
    if (workerd) {
      const vs = edgehost.requestsPerSec / workerd.requestsPerSec;
      parts.push(`${fixed(vs, 2)}x workerd (target ${TARGETS.vsWorkerd}x: ${met(vs >= TARGETS.vsWorkerd)})`);
    }
    if (uws) parts.push(`${Math.round((100 * edgehost.requestsPerSec) / uws.requestsPerSec)}% of raw uWS`);
    parts.push(`p99 ${fixed(edgehost.latencyP99Ms, 2)} ms (target < ${TARGETS.p99Ms} ms: ${met(edgehost.latencyP99Ms < TARGETS.p99Ms)})`);
    if (workerd) parts.push(`workerd p99 ${fixed(workerd.latencyP99Ms, 2)} ms`);
    lines.push(`${parts.join(", ")}.`);
  }
  const startup = results.isolateStartup;
  if (startup && !("failure" in startup)) {
    const total = sampleMedians(startup.newApp).totalMs;
    lines.push(
      `- A new app's isolate answers its first request ${fixed(total, 2)} ms after creation starts ` +
        `(target < ${TARGETS.isolateFirstResponseMs} ms: ${met(total < TARGETS.isolateFirstResponseMs)}); ` +
        `with its bundle's code cache warm ${fixed(sampleMedians(startup.warmCache).totalMs, 2)} ms.`,
    );
  }
  const memory = results.isolateMemory;
  if (memory && !("failure" in memory)) {
    const perIsolateMb = memory.rssPerIsolateBytes / MB;
    lines.push(
      `- An idle isolate with the prelude loaded costs ${fixed(perIsolateMb, 2)} MB RSS ` +
        `(target < ${TARGETS.idleIsolateRssMb} MB: ${met(perIsolateMb < TARGETS.idleIsolateRssMb)}), of which ${fixed(memory.heapUsedPerIsolateBytes / MB, 2)} MB V8 heap.`,
    );
  }
  for (const note of results.notes) lines.push(`- Note: ${note}`);
  // Ends the file with a newline.
  lines.push("");
  return lines;
}

/** Render the results as bench/RESULTS.md. */
export function renderReport(results: BenchResults): string {
  const { machine, options } = results;
  const title = isValidationRun(options) ? "# Benchmark results (validation run: harness check only)" : "# Benchmark results";
  return [
    title,
    "",
    "Generated by `npm run bench`; see bench/README.md for what each scenario measures.",
    "",
    `- Command: \`${results.command}\``,
    `- Date: ${results.startedAt.toISOString()}`,
    `- Node.js ${machine.nodeVersion}; ${machine.kernel}`,
    `- CPU: ${machine.cpuModel}, ${machine.cpuCount} logical CPUs`,
    `- Pinning: ${results.pinned ? `servers on CPU ${options.serverCpu} (\`taskset -c ${options.serverCpu}\`), wrk on CPU ${options.clientCpu}` : "none"}`,
    `- wrk ${machine.wrkVersion}: \`wrk -t ${options.threads} -c ${options.connections} -d ${options.durationS}s --latency\``,
    `- workerd ${machine.workerdVersion} (npm package), edgehost with default limits (\`edgehost run <entry> --port 0 --host 127.0.0.1\`)`,
    "",
    ...throughputSection(results),
    ...startSection(results),
    ...readingSection(results),
  ].join("\n");
}
