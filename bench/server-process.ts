import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** How a server announces that it listens, and on which port. */
export type ReadySignal =
  /** A line on stdout matching `pattern`, whose first capture group is the port. */
  | { readonly kind: "stdout"; readonly pattern: RegExp }
  /** A JSON line on descriptor 3, parsed by `parsePort` (workerd's `--control-fd 3`). */
  | { readonly kind: "control-fd"; readonly parsePort: (line: string) => number | undefined };

/** What to run. */
export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly ready: ReadySignal;
}

/** Options of {@link startServerProcess}. */
export interface StartOptions {
  /** Pin the process (and every thread and child it starts) to this CPU with `taskset`. */
  /** A CPU number or a taskset -c list ("0,1"). */
  readonly pinCpu?: number | string | undefined;
  /** Give up (and kill the process) if it has not announced readiness by then. Default 30 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** How a process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A server process started by the bench or a test. */
export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly origin: string;
  /** The last 64 KiB of stdout and stderr, interleaved. */
  output(): string;
  /**
   * SIGTERM, then wait up to `graceMs` (default 10 000) for the exit; past
   * that SIGKILL the process group the server leads (its own children,
   * nothing else). Idempotent.
   */
  stop(graceMs?: number): Promise<ExitStatus>;
}

const OUTPUT_KEEP_CHARS = 64 * 1024;
const CONTROL_FD = 3;

/** Processes started and not yet exited, killed if the parent goes away first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Servers lead their own process group (detached), so a parent that dies
  // would leave them running: kill what is left, by PID, on the way out.
  process.once("exit", () => {
    for (const child of live) killGroup(child, "SIGKILL");
  });
}

/** Kill the process group `child` leads, or just `child` if it leads none (it was not spawned detached). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  for (const target of [-child.pid, child.pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch {
      // No such group (not detached) or already gone.
    }
  }
}

/**
 * Kill `child` (by PID) if this process exits while it still runs: for
 * short-lived helpers such as wrk and the isolate probe.
 */
export function killOnExit(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.once("exit", () => live.delete(child));
}

function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Command and arguments, prefixed with `taskset -c CPU` when pinned (taskset execs, so the PID stays the server's). */
export function pinnedCommand(command: string, args: readonly string[], pinCpu: number | string | undefined): [string, string[]] {
  if (pinCpu === undefined) return [command, [...args]];
  return ["taskset", ["-c", String(pinCpu), command, ...args]];
}

/** A spawned server, whether or not it is ready yet. */
export interface SpawnedServer {
  readonly pid: number;
  /** stdout, or descriptor 3 for a control-fd ready signal, line by line. */
  readonly readyLines: ReturnType<typeof createInterface>;
  /** The last 64 KiB of stdout and stderr, interleaved. */
  output(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** See {@link ServerProcess.stop}. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

/**
 * Spawn a server in its own process group (so that a stuck server can be
 * killed with all its children, and nothing else) without waiting for it.
 * Rejects only if the command cannot be started at all.
 */
export async function spawnServer(spec: LaunchSpec, pinCpu?: number | string): Promise<SpawnedServer> {
  installExitHook();
  const [command, args] = pinnedCommand(spec.command, spec.args, pinCpu);
  const controlFd = spec.ready.kind === "control-fd";
  const child = spawn(command, args, {
    cwd: spec.cwd,
    stdio: controlFd ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (error) => reject(new Error(`${spec.command}: ${error.message}`)));
  });
  live.add(child);
  const exited = exitOf(child);
  void exited.then(() => live.delete(child));
  let output = "";
  const append = (chunk: string): void => {
    output = (output + chunk).slice(-OUTPUT_KEEP_CHARS);
  };
  child.stdout?.setEncoding("utf8").on("data", append);
  child.stderr?.setEncoding("utf8").on("data", append);
  const readyLines = createInterface({
    input: (controlFd ? child.stdio[CONTROL_FD] : child.stdout) as Readable,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let stopping: Promise<ExitStatus> | undefined;
  return {
    pid: child.pid as number,
    readyLines,
    output: () => output,
    exited,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
        const status = await exited;
        clearTimeout(timer);
        return status;
      })();
      return stopping;
    },
  };
}

/**
 * Spawn a server and resolve once it announces its port. Rejects (after
 * killing it) if it exits first or stays silent past the timeout; the
 * message carries its output.
 */
export async function startServerProcess(spec: LaunchSpec, options: StartOptions = {}): Promise<ServerProcess> {
  const server = await spawnServer(spec, options.pinCpu);
  const parsePort = (line: string): number | undefined => {
    if (spec.ready.kind === "control-fd") return spec.ready.parsePort(line);
    const match = spec.ready.pattern.exec(line);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const described = `${spec.command} ${spec.args.join(" ")}`;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${described}: not ready after ${timeoutMs} ms`)), timeoutMs);
      server.readyLines.on("line", (line) => {
        const found = parsePort(line);
        if (found === undefined) return;
        clearTimeout(timer);
        resolve(found);
      });
      void server.exited.then((status) => {
        clearTimeout(timer);
        reject(new Error(`${described}: exited (${status.signal ?? `code ${String(status.code)}`}) before it was ready`));
      });
    });
  } catch (error) {
    await server.stop(0);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- output ---\n${server.output()}`, { cause: error });
  }
  return { pid: server.pid, port, origin: `http://127.0.0.1:${port}`, output: () => server.output(), stop: (graceMs) => server.stop(graceMs) };
}
