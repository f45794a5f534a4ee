import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (tests run from dist/test/helpers). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const EDGEHOST_BIN = join(REPO_ROOT, "bin", "edgehost.js");

/** A running `edgehost run` supervisor started by a test. */
export interface RunningEdgehost {
  readonly url: string;
  readonly port: number;
  /** The supervisor. */
  readonly child: ChildProcess;
  /** The front end that was listening when the server announced itself. */
  readonly frontEndPid: number;
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolve with the output once `pattern` appears in it (rejects after timeoutMs). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, wait for exit. */
  stop(): Promise<ExitStatus>;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Outcome of an edgehost process that is expected to exit on its own. */
export interface FinishedEdgehost extends ExitStatus {
  readonly stdout: string;
  readonly stderr: string;
}

const READY = /edgehost: serving .* at (http:\/\/[^\s]+)\/ \(front end pid (\d+)\)/;

function collect(child: ChildProcess): { text: () => string; stdout: () => string; stderr: () => string; onData: (fn: () => void) => void } {
  let all = "";
  let out = "";
  let err = "";
  const listeners: Array<() => void> = [];
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    all += chunk;
    out += chunk;
    listeners.forEach((fn) => fn());
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    all += chunk;
    err += chunk;
    listeners.forEach((fn) => fn());
  });
  return { text: () => all, stdout: () => out, stderr: () => err, onData: (fn) => listeners.push(fn) };
}

function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
}

/**
 * Start `edgehost run <entry> --port 0 ...args` and wait until it prints its URL.
 * `env` replaces the environment (default: this process's), e.g. to enable failpoints.
 */
export function startEdgehost(
  entry: string,
  args: readonly string[] = [],
  cwd: string = REPO_ROOT,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningEdgehost> {
  return startEdgehostCommand(["run", entry, "--port", "0", ...args], cwd, env);
}

/** Start `edgehost <args>` (e.g. `serve edgehost.json --port 0`) and wait until it prints its URL. */
export async function startEdgehostCommand(args: readonly string[], cwd: string = REPO_ROOT, env: NodeJS.ProcessEnv = process.env): Promise<RunningEdgehost> {
  const child = spawn(process.execPath, [EDGEHOST_BIN, ...args], {
    cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collect(child);
  const waitForOutput = (pattern: RegExp, timeoutMs = 20_000): Promise<string> =>
    new Promise((resolveWait, reject) => {
      const check = (): boolean => {
        if (pattern.test(output.text())) {
          clearTimeout(timer);
          resolveWait(output.text());
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in output:\n${output.text()}`)), timeoutMs);
      if (!check()) output.onData(() => void check());
      child.once("exit", () => {
        if (!check()) {
          clearTimeout(timer);
          reject(new Error(`edgehost exited while waiting for ${pattern}; output:\n${output.text()}`));
        }
      });
    });
  const text = await waitForOutput(READY);
  const ready = READY.exec(text) as RegExpExecArray;
  const url = ready[1] as string;
  return {
    url,
    frontEndPid: Number(ready[2]),
    port: Number(new URL(url).port),
    child,
    output: output.text,
    waitForOutput,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exitOf(child);
    },
  };
}

/** Run edgehost expecting it to exit by itself (start-up errors); kills it after timeoutMs. */
export async function runEdgehostToExit(args: readonly string[], cwd: string = REPO_ROOT, timeoutMs = 20_000): Promise<FinishedEdgehost> {
  const child = spawn(process.execPath, [EDGEHOST_BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  const output = collect(child);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const status = await exitOf(child);
  clearTimeout(timer);
  return { ...status, stdout: output.stdout(), stderr: output.stderr() };
}

/**
 * Write an app into a fresh temp directory. `files` maps relative paths to
 * contents; returns the directory and a cleanup function.
 */
export function writeApp(files: Record<string, string>): { dir: string; entry: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "edgehost-test-"));
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  const entry = join(dir, Object.keys(files)[0] as string);
  return { dir, entry, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
