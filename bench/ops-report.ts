/**
 * The "Web API operations" section of RESULTS.md: per op, each contender's
 * ops/s and edgehost's ratio to workerd (and to a baseline build, when one
 * ran beside it).
 */
import { cpus } from "node:os";
import { machineInfo } from "./machine-info.js";
import { OP_NOTES } from "./ops-notes.js";
import { sectionMarkers } from "./report-sections.js";
import { median } from "./stats.js";

/** Name of the section in RESULTS.md. */
export const OPS_SECTION = "ops";

/** Who runs the ops app: this checkout, optionally a baseline build of edgehost, and workerd. */
export type OpsContenderName = "edgehost" | "baseline" | "workerd";

/** The runs of one op on one contender. */
export interface OpMeasurement {
  readonly op: string;
  readonly contender: OpsContenderName;
  /** Iterations per measured request. */
  readonly n: number;
  /** Wall ms of each `?n=0` request. */
  readonly emptyMs: readonly number[];
  /** Wall ms of each `?n=N` request, paired with emptyMs. */
  readonly runMs: readonly number[];
  readonly failure?: string;
}

/** What the section needs besides the measurements. */
export interface OpsReportContext {
  readonly command: string;
  readonly startedAt: Date;
  readonly pinned: boolean;
  readonly serverCpu: number;
  readonly clientCpu: number;
  readonly runs: number;
  readonly targetMs: number;
  /** The flags edgehost ran with. */
  readonly edgehostArgs: readonly string[];
  /** Where the baseline build came from, when one ran. */
  readonly baseline?: string;
  readonly notes: readonly string[];
}

/** Operations per second: n over the median run minus the median empty request; undefined if not measurable. */
export function opsPerSec(measurement: OpMeasurement | undefined): number | undefined {
  if (measurement === undefined || measurement.failure !== undefined || measurement.runMs.length === 0) return undefined;
  const spentMs = median(measurement.runMs) - median(measurement.emptyMs);
  return spentMs > 0 ? (measurement.n * 1000) / spentMs : undefined;
}

function rate(value: number | undefined): string {
  if (value === undefined) return "n/a";
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

function ratio(value: number | undefined, base: number | undefined): string {
  return value === undefined || base === undefined ? "n/a" : `${(value / base).toFixed(2)}x`;
}

function microseconds(value: number | undefined): string {
  return value === undefined ? "n/a" : (1e6 / value).toFixed(2);
}

/** The section, markers included. */
export function renderOpsSection(measurements: readonly OpMeasurement[], context: OpsReportContext): string {
  const machine = machineInfo();
  const { start, end } = sectionMarkers(OPS_SECTION);
  const hasBaseline = context.baseline !== undefined;
  const ops = [...new Set(measurements.map((each) => each.op))];
  const find = (op: string, contender: OpsContenderName): OpMeasurement | undefined =>
    measurements.find((each) => each.op === op && each.contender === contender);
  const header = hasBaseline
    ? "| op | baseline ops/s | edgehost ops/s | workerd ops/s | edgehost µs/op | workerd µs/op | baseline / workerd | edgehost / workerd | edgehost / baseline |"
    : "| op | edgehost ops/s | workerd ops/s | edgehost µs/op | workerd µs/op | edgehost / workerd |";
  const lines = [
    start,
    "## Web API operations inside the isolate (issue 7)",
    "",
    `Command: \`${context.command}\`; ${context.startedAt.toISOString()}; Node ${process.version}; ${machine.cpuModel} x ${cpus().length}; ` +
      `workerd ${machine.workerdVersion}; ` +
      `${context.pinned ? `servers pinned to CPU ${context.serverCpu}, client to CPU ${context.clientCpu}` : "unpinned"}; ` +
      `edgehost \`run examples/ops/app.ts ${context.edgehostArgs.join(" ")}\`` +
      `${hasBaseline ? `; baseline: ${context.baseline}` : ""}.`,
    "",
    `Each op runs N times in one request of examples/ops/app.ts (\`GET /op/<op>?n=N\`, N calibrated per contender so that a run takes about ${context.targetMs} ms); ` +
      `time per op = (median wall time of ${context.runs} runs with n=N - median of ${context.runs} with n=0) / N, timed by the client. ` +
      "A ratio above 1 means edgehost does more operations per second.",
    "",
    header,
    hasBaseline ? "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" : "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const op of ops) {
    const edgehost = opsPerSec(find(op, "edgehost"));
    const workerd = opsPerSec(find(op, "workerd"));
    if (hasBaseline) {
      const baseline = opsPerSec(find(op, "baseline"));
      lines.push(
        `| ${op} | ${rate(baseline)} | ${rate(edgehost)} | ${rate(workerd)} | ${microseconds(edgehost)} | ${microseconds(workerd)} | ${ratio(baseline, workerd)} | ${ratio(edgehost, workerd)} | ${ratio(edgehost, baseline)} |`,
      );
    } else {
      lines.push(`| ${op} | ${rate(edgehost)} | ${rate(workerd)} | ${microseconds(edgehost)} | ${microseconds(workerd)} | ${ratio(edgehost, workerd)} |`);
    }
  }
  const failures = measurements.filter((each) => each.failure !== undefined);
  const details = measurements.filter((each) => each.failure === undefined);
  lines.push(
    "",
    `N per contender: ${ops
      .map((op) => `${op} ${details.filter((each) => each.op === op).map((each) => `${each.contender} ${each.n.toLocaleString("en-US")}`).join(", ")}`)
      .join("; ")}.`,
  );
  for (const failure of failures) lines.push(`- ${failure.op} on ${failure.contender} failed: ${failure.failure ?? ""}`);
  for (const note of context.notes) lines.push(`- Note: ${note}`);
  const explained = ops.filter((op) => OP_NOTES[op] !== undefined);
  if (explained.length > 0) {
    lines.push("", "Why each ratio is what it is (bench/ops-notes.ts):", "");
    for (const op of explained) lines.push(`- **${op}**: ${OP_NOTES[op] ?? ""}`);
  }
  lines.push(end);
  return lines.join("\n");
}
