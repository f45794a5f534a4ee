import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { RuntimeError } from "./errors.js";
import { isFrontEndMessage, type SupervisorMessage } from "./ipc-messages.js";
import type { LogSink } from "./logger.js";
import type { RunConfig } from "./run-config.js";

const FRONT_END_MAIN = fileURLToPath(new URL("./front-end-main.js", import.meta.url));

/** Restart delays for a front end that keeps crashing: none first, then doubling to the cap. */
const RESTART_BACKOFF_MS = [0, 100, 250, 500, 1000, 2000, 5000];
/** A front end that stayed up this long resets the backoff. */
const STABLE_AFTER_MS = 10_000;
/** Grace on top of the drain time before a child that will not exit is killed. */
const KILL_GRACE_MS = 2_000;

interface FrontEnd {
  readonly child: ChildProcess;
  ready: boolean;
  readyAt: number;
  /** Asked to be replaced (catastrophic isolate failure). */
  replacing: boolean;
}

/**
 * The top process: holds the configuration, runs no tenant code and no uWS,
 * spawns the front end, restarts it when it dies (with backoff if it keeps
 * dying) and hands the port over when one asks to be replaced. Owns
 * SIGINT/SIGTERM: asks every child to drain, then exits.
 */
export class Supervisor {
  readonly #config: RunConfig;
  readonly #log: LogSink;
  readonly #frontEnds = new Set<FrontEnd>();
  #port: number;
  #crashes = 0;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(config: RunConfig, log: LogSink) {
    this.#config = config;
    this.#log = log;
    this.#port = config.port;
  }

  /** Start the first front end; resolves with the port once it listens. Rejects RuntimeError with its one-line reason. */
  async start(): Promise<number> {
    // uSockets sets SO_REUSEPORT only for an explicit port, and a replacement
    // front end must be able to bind next to the one it replaces: so port 0
    // is resolved to a concrete free port here, once.
    if (this.#port === 0) this.#port = await pickFreePort(this.#config.host);
    return new Promise((resolve, reject) => {
      this.#spawn({ onReady: resolve, onStartFailure: reject });
    });
  }

  /** PIDs of live front ends (for operators and tests). */
  get frontEndPids(): number[] {
    return [...this.#frontEnds].map((f) => f.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  #spawn(hooks: { onReady?: (port: number) => void; onStartFailure?: (error: RuntimeError) => void } = {}): FrontEnd {
    const child = fork(FRONT_END_MAIN, [], {
      execArgv: ["--no-node-snapshot"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const frontEnd: FrontEnd = { child, ready: false, readyAt: 0, replacing: false };
    this.#frontEnds.add(frontEnd);
    let fatalMessage: string | undefined;
    child.on("message", (message: unknown) => {
      if (!isFrontEndMessage(message)) return;
      switch (message.type) {
        case "ready":
          frontEnd.ready = true;
          frontEnd.readyAt = Date.now();
          this.#port = message.port;
          this.#retireReplaced(frontEnd);
          hooks.onReady?.(message.port);
          break;
        case "fatal":
          fatalMessage = message.message;
          break;
        case "replace-me":
          if (!frontEnd.replacing && !this.#stopping) {
            frontEnd.replacing = true;
            this.#spawn();
          }
          break;
      }
    });
    child.on("exit", (code, signal) => {
      this.#frontEnds.delete(frontEnd);
      if (!frontEnd.ready) {
        const reason = fatalMessage ?? `front end exited during start-up (${signal ?? `code ${code}`})`;
        hooks.onStartFailure?.(new RuntimeError(fatalMessage ? "EDGE_RUNTIME_APP_FAILED" : "EDGE_RUNTIME_CHILD_FAILED", reason));
        if (!hooks.onStartFailure && !this.#stopping) this.#scheduleRestart(`replacement failed to start: ${reason}`);
        return;
      }
      if (this.#stopping || frontEnd.replacing) return;
      this.#scheduleRestart(`front end ${child.pid} died (${signal ?? `exit code ${code}`})`, Date.now() - frontEnd.readyAt);
    });
    const message: SupervisorMessage = { type: "start", config: this.#config, port: this.#port };
    child.send(message);
    return frontEnd;
  }

  /** A replacement is listening: the front end it replaces may now drain and go. */
  #retireReplaced(newcomer: FrontEnd): void {
    for (const frontEnd of this.#frontEnds) {
      if (frontEnd !== newcomer && frontEnd.replacing) this.#send(frontEnd, { type: "shutdown" });
    }
  }

  #scheduleRestart(reason: string, upForMs = 0): void {
    if (this.#stopping || this.#restartTimer !== undefined) return;
    if (upForMs > STABLE_AFTER_MS) this.#crashes = 0;
    const delay = RESTART_BACKOFF_MS[Math.min(this.#crashes, RESTART_BACKOFF_MS.length - 1)] ?? 0;
    this.#crashes++;
    this.#log({ level: "error", message: `${reason}; restarting in ${delay} ms` });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#stopping) this.#spawn();
    }, delay);
  }

  #send(frontEnd: FrontEnd, message: SupervisorMessage): void {
    if (frontEnd.child.connected) frontEnd.child.send(message);
    else frontEnd.child.kill("SIGTERM");
  }

  /** Ask every front end to drain and exit; resolves when all have exited. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    const exits = [...this.#frontEnds].map(
      (frontEnd) =>
        new Promise<void>((resolve) => {
          if (frontEnd.child.exitCode !== null || frontEnd.child.signalCode !== null) return resolve();
          const killTimer = setTimeout(() => frontEnd.child.kill("SIGKILL"), this.#config.shutdownTimeoutMs + KILL_GRACE_MS);
          frontEnd.child.once("exit", () => {
            clearTimeout(killTimer);
            resolve();
          });
          this.#send(frontEnd, { type: "shutdown" });
        }),
    );
    await Promise.all(exits);
  }
}

/** A port the OS considers free on `host` right now. */
function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
