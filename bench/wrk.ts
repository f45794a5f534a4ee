import { execFile } from "node:child_process";
import { killOnExit, pinnedCommand } from "./server-process.js";

/** One wrk run, parsed. Latencies in milliseconds. */
export interface WrkResult {
  readonly requestsPerSec: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly requests: number;
  /** Connect, read, write and timeout errors together. */
  readonly socketErrors: number;
  /** Responses with a status outside 2xx/3xx. */
  readonly non2xx: number;
}

/** Load settings for one wrk run. */
export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationS: number;
  readonly pinCpu?: number | undefined;
  /** A Lua script (`wrk -s`), e.g. one choosing each request's Host. */
  readonly script?: string | undefined;
}

const TIME_UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `754.00us`, `1.02ms`, `2.10s` -> milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`wrk: cannot parse duration ${JSON.stringify(text)}`);
  return Number(match[1]) * (TIME_UNIT_MS[match[2] as string] as number);
}

function percentile(output: string, label: string): number {
  const match = new RegExp(`^\\s*${label}%\\s+(\\S+)\\s*$`, "m").exec(output);
  if (!match) throw new Error(`wrk: no ${label}% latency in output (was --latency passed?)\n${output}`);
  return parseWrkDuration(match[1] as string);
}

/** Parse the text wrk prints with `--latency`. Throws if a needed line is missing. */
export function parseWrkOutput(output: string): WrkResult {
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  const total = /^\s*(\d+) requests in /m.exec(output);
  if (!rate || !total) throw new Error(`wrk: no request rate in output\n${output}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, value) => sum + Number(value), 0) : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSec: Number(rate[1]),
    latencyP50Ms: percentile(output, "50"),
    latencyP99Ms: percentile(output, "99"),
    requests: Number(total[1]),
    socketErrors,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

/** The wrk command line (without the taskset prefix). */
export function wrkArgs(options: WrkOptions): string[] {
  return [
    "-t",
    String(options.threads),
    "-c",
    String(options.connections),
    "-d",
    `${options.durationS}s`,
    ...(options.script === undefined ? [] : ["-s", options.script]),
    "--latency",
    options.url,
  ];
}

/** Run wrk once and parse its report. Kills wrk if it overruns its duration by 30 s. */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const [command, args] = pinnedCommand("wrk", wrkArgs(options), options.pinCpu);
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: (options.durationS + 30) * 1000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`wrk failed: ${error.message}\n${stdout}${stderr}`));
        return;
      }
      try {
        resolve(parseWrkOutput(stdout));
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    });
    killOnExit(child);
  });
}
