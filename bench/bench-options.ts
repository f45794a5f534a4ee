import { join } from "node:path";
import { parseArgs } from "node:util";
import { BENCH_APP_NAMES, isBenchAppName, type BenchAppName } from "./contenders/reference-apps.js";
import { CONTENDER_NAMES, isContenderName, REPO_ROOT, type ContenderName } from "./contenders.js";

/** Everything a bench run is parameterised by; printed into RESULTS.md. */
export interface BenchOptions {
  /** Seconds per measured wrk run. Default 10. */
  readonly durationS: number;
  /** Seconds of wrk before the measured runs, per contender and app. Default 2. */
  readonly warmupS: number;
  /** Measured wrk runs per contender and app; the median is reported. Default 3. */
  readonly runs: number;
  /** wrk connections. Default 100. */
  readonly connections: number;
  /** wrk threads. Default 1 (wrk has one core to itself). */
  readonly threads: number;
  /** CPU the servers are pinned to. Default 0. */
  readonly serverCpu: number;
  /** CPU wrk (and the bench itself) is pinned to. Default 1. */
  readonly clientCpu: number;
  readonly contenders: readonly ContenderName[];
  readonly apps: readonly BenchAppName[];
  /** Process starts per contender for the cold-start median. Default 5. */
  readonly coldStartRuns: number;
  /** Isolates created for the isolate-start medians. Default 20. */
  readonly isolateRuns: number;
  /** Idle isolates held at once for the RSS measurement. Default 50. */
  readonly idleIsolates: number;
  readonly skipThroughput: boolean;
  readonly skipColdStart: boolean;
  readonly skipIsolates: boolean;
  /** Skip the Web API operations run (bench/ops-bench.ts, about a minute). */
  readonly skipOps: boolean;
  /** Where the report goes. Default bench/RESULTS.md. */
  readonly outPath: string;
}

export const BENCH_USAGE = `Usage: npm run bench -- [options]
  --duration S        seconds per measured wrk run (default 10)
  --warmup S          seconds of wrk warm-up per contender and app (default 2)
  --runs N            measured runs per contender and app, median reported (default 3)
  --connections N     wrk connections (default 100)
  --threads N         wrk threads (default 1)
  --server-cpu N      CPU the servers are pinned to (default 0)
  --client-cpu N      CPU wrk is pinned to (default 1)
  --contenders LIST   comma-separated: ${CONTENDER_NAMES.join(",")} (default all)
  --apps LIST         comma-separated: ${BENCH_APP_NAMES.join(",")} (default all)
  --cold-runs N       process starts per contender (default 5)
  --isolate-runs N    isolates per isolate-start median (default 20)
  --idle-isolates N   idle isolates for the RSS measurement (default 50)
  --skip-throughput, --skip-cold-start, --skip-isolates, --skip-ops
  --out PATH          report file (default bench/RESULTS.md)`;

// wrk takes whole seconds, so every numeric option is a whole number.
function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === "" || !Number.isInteger(number) || number < 0) {
    throw new Error(`--${name} expects a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

function list<T extends string>(name: string, value: string | undefined, all: readonly T[], valid: (item: string) => item is T): T[] {
  if (value === undefined) return [...all];
  const items = value.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  const bad = items.filter((item) => !valid(item));
  if (bad.length > 0 || items.length === 0) throw new Error(`--${name}: expected some of ${all.join(",")}, got ${JSON.stringify(value)}`);
  return items as T[];
}

/** Parse the bench command line. Throws one-line errors; `null` means --help. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: "string" },
      warmup: { type: "string" },
      runs: { type: "string" },
      connections: { type: "string" },
      threads: { type: "string" },
      "server-cpu": { type: "string" },
      "client-cpu": { type: "string" },
      contenders: { type: "string" },
      apps: { type: "string" },
      "cold-runs": { type: "string" },
      "isolate-runs": { type: "string" },
      "idle-isolates": { type: "string" },
      "skip-throughput": { type: "boolean" },
      "skip-cold-start": { type: "boolean" },
      "skip-isolates": { type: "boolean" },
      "skip-ops": { type: "boolean" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return null;
  const options: BenchOptions = {
    durationS: wholeNumber("duration", values.duration, 10),
    warmupS: wholeNumber("warmup", values.warmup, 2),
    runs: wholeNumber("runs", values.runs, 3),
    connections: wholeNumber("connections", values.connections, 100),
    threads: wholeNumber("threads", values.threads, 1),
    serverCpu: wholeNumber("server-cpu", values["server-cpu"], 0),
    clientCpu: wholeNumber("client-cpu", values["client-cpu"], 1),
    contenders: list("contenders", values.contenders, CONTENDER_NAMES, isContenderName),
    apps: list("apps", values.apps, BENCH_APP_NAMES, isBenchAppName),
    coldStartRuns: wholeNumber("cold-runs", values["cold-runs"], 5),
    isolateRuns: wholeNumber("isolate-runs", values["isolate-runs"], 20),
    idleIsolates: wholeNumber("idle-isolates", values["idle-isolates"], 50),
    skipThroughput: values["skip-throughput"] ?? false,
    skipColdStart: values["skip-cold-start"] ?? false,
    skipIsolates: values["skip-isolates"] ?? false,
    skipOps: values["skip-ops"] ?? false,
    outPath: values.out ?? join(REPO_ROOT, "bench", "RESULTS.md"),
  };
  if (options.runs < 1 || options.durationS < 1 || options.connections < 1 || options.threads < 1) {
    throw new Error("--runs, --duration, --connections and --threads must be at least 1");
  }
  if (options.threads > options.connections) throw new Error("--threads may not exceed --connections (wrk needs a connection per thread)");
  return options;
}

/** True when the run is shorter than the defaults: a harness check, not a result to quote. */
export function isValidationRun(options: BenchOptions): boolean {
  return options.durationS < 10 || options.runs < 3 || options.warmupS < 2 || options.coldStartRuns < 5 || options.isolateRuns < 20;
}
