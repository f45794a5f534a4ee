/**
 * The Web API operations microbenchmark (issue 7, bench/README.md): the same
 * app (examples/ops/app.ts) in edgehost and in workerd, side by side in one
 * run, each op timed from outside. Optionally a baseline build of edgehost
 * (another checkout, built) runs beside them, so that a change to the
 * prelude is measured before and after in the same run.
 *
 * Part of the full `npm run bench`; `npm run bench -- --ops` runs only this
 * and replaces only its section of RESULTS.md. 127.0.0.1 only; every request
 * is bounded; kills only what it started.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { edgehostLaunchSpec, prepareWorkerd, REPO_ROOT, type PreparedContender } from "./contenders.js";
import { hasCommand } from "./machine-info.js";
import { calibrate, OpsClient } from "./ops-timing.js";
import { OPS_SECTION, renderOpsSection, type OpMeasurement, type OpsContenderName } from "./ops-report.js";
import { writeSection } from "./report-sections.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";
import { positiveIntegerOption, scenarioOptions } from "./scenario-options.js";

/** Pause before each measured pair of requests (see measureOp). */
const SETTLE_MS = 100;

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/** The app, relative to the repository root. */
const OPS_APP_ENTRY = "examples/ops/app.ts";
/**
 * edgehost's per-request CPU budget is 50 ms by default; a measured run is
 * meant to take ~150 ms, so the budget is raised far enough not to cut it.
 */
export const OPS_EDGEHOST_ARGS: readonly string[] = ["--cpu-ms", "10000"];

/** Options of the ops run. */
export interface OpsOptions {
  /** Measured runs per op and contender (plus as many n=0 runs). Default 5. */
  readonly runs: number;
  /** What one measured run should take, ms. Default 150. */
  readonly targetMs: number;
  /** Ops to run; default every op the app lists. */
  readonly ops?: readonly string[];
  /** A built edgehost checkout to run beside this one (its bin/edgehost.js), for before/after. */
  readonly baselineDir?: string;
  /** CPUs to pin the servers and this process (the client) to; undefined = unpinned. */
  readonly serverCpu?: number | undefined;
  readonly clientCpu?: number | undefined;
}

export const OPS_USAGE = `Usage: npm run bench -- --ops [options]
  --runs N          measured runs per op and contender, median reported (default 5)
  --target-ms MS    how long one measured run should take (default 150)
  --only LIST       comma-separated ops (default every op of examples/ops/app.ts)
  --baseline DIR    another built edgehost checkout to run beside this one (before/after)
  --out PATH        report file whose ops section is replaced (default bench/RESULTS.md)`;

/** `dir`, with its git commit when it is a git checkout (so that the report says what the baseline was). */
function describeCheckout(dir: string): string {
  try {
    const commit = execFileSync("git", ["-C", dir, "log", "-1", "--format=%h %s"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return commit === "" ? dir : `${dir} (commit ${commit.length > 80 ? `${commit.slice(0, 77)}...` : commit})`;
  } catch {
    return dir;
  }
}

function progress(message: string): void {
  process.stderr.write(`bench ops: ${message}\n`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface OpsContender {
  readonly name: OpsContenderName;
  readonly prepared: PreparedContender;
  readonly server: ServerProcess;
  readonly client: OpsClient;
}

async function startContenders(options: OpsOptions, tmpDir: string): Promise<OpsContender[]> {
  const entry = join(REPO_ROOT, OPS_APP_ENTRY);
  const none = async (): Promise<void> => undefined;
  const plans: Array<{ name: OpsContenderName; prepare: () => Promise<PreparedContender> }> = [];
  if (options.baselineDir !== undefined) {
    const cli = join(resolve(options.baselineDir), "bin", "edgehost.js");
    plans.push({ name: "baseline", prepare: async () => ({ spec: edgehostLaunchSpec(entry, 0, OPS_EDGEHOST_ARGS, cli), cleanup: none }) });
  }
  plans.push({ name: "edgehost", prepare: async () => ({ spec: edgehostLaunchSpec(entry, 0, OPS_EDGEHOST_ARGS), cleanup: none }) });
  plans.push({ name: "workerd", prepare: () => prepareWorkerd(entry, 0, tmpDir) });
  const started: OpsContender[] = [];
  try {
    for (const plan of plans) {
      const prepared = await plan.prepare();
      try {
        const server = await startServerProcess(prepared.spec, { pinCpu: options.serverCpu });
        started.push({ name: plan.name, prepared, server, client: new OpsClient(server.origin) });
        progress(`${plan.name} started (pid ${server.pid})`);
      } catch (error) {
        await prepared.cleanup();
        throw new Error(`${plan.name} did not start: ${errorText(error)}`);
      }
    }
  } catch (error) {
    await stopContenders(started);
    throw error;
  }
  return started;
}

async function stopContenders(contenders: readonly OpsContender[]): Promise<void> {
  for (const { server, prepared, client } of contenders) {
    client.close();
    await server.stop();
    await prepared.cleanup();
  }
}

/** The ops the app offers and the cycle length of each op that has one (GET /op). */
async function listOps(client: OpsClient): Promise<{ ops: string[]; cycles: Record<string, number> }> {
  const answer = await client.get("/op");
  const listed = JSON.parse(answer.body) as { ops?: unknown; cycles?: unknown };
  if (!Array.isArray(listed.ops)) throw new Error(`GET /op answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return { ops: listed.ops.map(String), cycles: (listed.cycles ?? {}) as Record<string, number> };
}

/** Calibrate, check, warm up and measure one op on every contender; runs go round-robin over the contenders. */
async function measureOp(op: string, unit: number, contenders: readonly OpsContender[], options: OpsOptions, notes: string[]): Promise<OpMeasurement[]> {
  const state = new Map<OpsContenderName, { n: number; emptyMs: number[]; runMs: number[]; failure?: string }>();
  const checksums: Array<[OpsContenderName, number]> = [];
  for (const { name, client } of contenders) {
    try {
      const n = await calibrate(client, op, options.targetMs, unit);
      checksums.push([name, (await client.run(op, unit)).checksum]);
      state.set(name, { n, emptyMs: [], runMs: [] });
    } catch (error) {
      state.set(name, { n: 0, emptyMs: [], runMs: [], failure: errorText(error).split("\n")[0] ?? "" });
      progress(`${op}: ${name} failed: ${errorText(error)}`);
    }
  }
  const [first, ...others] = checksums;
  for (const [name, checksum] of others) {
    if (first !== undefined && checksum !== first[1]) notes.push(`${op}: ${name}'s checksum for n=${unit} is ${checksum}, ${first[0]}'s ${first[1]} (the results differ)`);
  }
  for (let round = 0; round < options.runs; round++) {
    for (const { name, client } of contenders) {
      const entry = state.get(name);
      if (entry === undefined || entry.failure !== undefined) continue;
      try {
        // All servers share one CPU: let the last one's after-work (GC, sweeping on V8's helper threads) finish first.
        await settle();
        entry.emptyMs.push((await client.run(op, 0)).ms);
        entry.runMs.push((await client.run(op, entry.n)).ms);
      } catch (error) {
        entry.failure = errorText(error).split("\n")[0] ?? "";
      }
    }
  }
  return contenders.map(({ name }) => {
    const entry = state.get(name) ?? { n: 0, emptyMs: [], runMs: [], failure: "not run" };
    const measurement = { op, contender: name, n: entry.n, emptyMs: entry.emptyMs, runMs: entry.runMs };
    return entry.failure === undefined ? measurement : { ...measurement, failure: entry.failure };
  });
}

/** Run the ops benchmark; rejects only if a contender does not start. */
export async function runOps(options: OpsOptions, notes: string[]): Promise<OpMeasurement[]> {
  const tmpDir = await mkdtemp(join(tmpdir(), "edgehost-bench-ops-"));
  const measurements: OpMeasurement[] = [];
  try {
    const contenders = await startContenders(options, tmpDir);
    try {
      const listed = await listOps((contenders[0] as OpsContender).client);
      const unknown = (options.ops ?? []).filter((op) => !listed.ops.includes(op));
      if (unknown.length > 0) throw new Error(`unknown op(s): ${unknown.join(", ")} (the app has ${listed.ops.join(", ")})`);
      for (const op of options.ops ?? listed.ops) {
        const results = await measureOp(op, listed.cycles[op] ?? 1, contenders, options, notes);
        measurements.push(...results);
        progress(`${op}: ${results.map((each) => `${each.contender} n=${each.n}${each.failure === undefined ? "" : " failed"}`).join(", ")}`);
      }
    } finally {
      await stopContenders(contenders);
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
  return measurements;
}

function parseOpsOptions(argv: readonly string[]): (OpsOptions & { outPath: string }) | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      runs: { type: "string" },
      "target-ms": { type: "string" },
      only: { type: "string" },
      baseline: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return null;
  const ops = values.only?.split(",").map((op) => op.trim()).filter((op) => op.length > 0);
  if (values.baseline !== undefined && !existsSync(join(values.baseline, "bin", "edgehost.js"))) {
    throw new Error(`--baseline ${values.baseline}: no bin/edgehost.js there (a built edgehost checkout is expected)`);
  }
  return {
    runs: positiveIntegerOption("runs", values.runs, 5),
    targetMs: positiveIntegerOption("target-ms", values["target-ms"], 150),
    ...(ops === undefined ? {} : { ops }),
    ...(values.baseline === undefined ? {} : { baselineDir: values.baseline }),
    outPath: values.out ?? join(REPO_ROOT, "bench", "RESULTS.md"),
  };
}

/** Entry of `npm run bench -- --ops ...`; resolves with the exit code. */
export async function runOpsBench(argv: readonly string[]): Promise<number> {
  const parsed = scenarioOptions("ops", OPS_USAGE, argv, parseOpsOptions);
  if (typeof parsed === "number") return parsed;
  if (!existsSync(join(REPO_ROOT, "dist", "sandbox", "prelude.js"))) {
    process.stderr.write("bench ops: the build is missing: run `npm run build` (or `npm run bench -- --ops`, which builds first)\n");
    return 1;
  }
  const pinned = hasCommand("taskset") && cpus().length >= 2;
  // The client stays off the servers' CPU.
  if (pinned) execFileSync("taskset", ["-a", "-pc", "1", String(process.pid)], { stdio: "ignore" });
  const options = { ...parsed, ...(pinned ? { serverCpu: 0, clientCpu: 1 } : {}) };
  const startedAt = new Date();
  const notes: string[] = [];
  let measurements: OpMeasurement[];
  try {
    measurements = await runOps(options, notes);
  } catch (error) {
    process.stderr.write(`bench ops: ${errorText(error)}\n`);
    return 1;
  }
  const section = renderOpsSection(measurements, {
    command: `npm run bench -- --ops${argv.length > 0 ? ` ${argv.join(" ")}` : ""}`,
    startedAt,
    pinned,
    serverCpu: 0,
    clientCpu: 1,
    runs: options.runs,
    targetMs: options.targetMs,
    edgehostArgs: OPS_EDGEHOST_ARGS,
    ...(options.baselineDir === undefined ? {} : { baseline: describeCheckout(options.baselineDir) }),
    notes,
  });
  process.stdout.write(`${section}\n`);
  await writeSection(options.outPath, OPS_SECTION, section);
  progress(`wrote the ops section of ${options.outPath}`);
  return measurements.some((each) => each.failure !== undefined) ? 1 : 0;
}
