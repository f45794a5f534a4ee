import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { LOCKDOWN_STALLS } from "../sandbox/inline-policy.js";
import { RuntimeError } from "./errors.js";
import { isFrontEndMessage, type SupervisorMessage } from "./ipc-messages.js";
import type { LogSink } from "./logger.js";
import type { FrontEndSource } from "./ipc-messages.js";

/** What the supervisor needs to know of the configuration. */
export interface SupervisorOptions {
  readonly source: FrontEndSource;
  readonly host: string;
  /** 0 = pick a free port once, here. */
  readonly port: number;
  /** How long a front end may drain before it is killed. */
  readonly shutdownTimeoutMs: number;
  /** Keep a warm standby front end. Default true. */
  readonly standby?: boolean;
}

const FRONT_END_MAIN = fileURLToPath(new URL("./front-end-main.js", import.meta.url));

/** Delays before spawning again after a front end died: none first, then growing to the cap. */
const RESTART_BACKOFF_MS = [0, 100, 250, 500, 1000, 2000, 5000];
/** A front end that stayed up this long resets the backoff. */
const STABLE_AFTER_MS = 10_000;
/** Grace on top of the drain time before a child that will not exit is killed. */
const KILL_GRACE_MS = 2_000;

/**
 * active: listening and serving. standby: app built and isolate booted, not
 * listening; promoted when the active one dies. retiring: asked to be
 * replaced after a catastrophic isolate failure, serving 503 until the
 * replacement listens.
 */
type Role = "active" | "standby" | "retiring";

interface FrontEnd {
  readonly child: ChildProcess;
  role: Role;
  /** Listening (active) or booted and waiting (standby). */
  ready: boolean;
  readyAt: number;
  /** A standby still booting when the active one died: listen as soon as it is ready. */
  promoteWhenReady: boolean;
  /** App ids its hang watchdog uses in stall reports. */
  readonly appIds: Map<number, string>;
}

/**
 * The top process: holds the configuration, runs no tenant code and no uWS.
 * It keeps one active front end and one warm standby (app bundled, isolate
 * booted, not listening). When the active one dies or asks to be replaced,
 * the standby starts listening on the same port at once, so the server
 * answers again in milliseconds instead of a process start-up; a new
 * standby is then spawned, with backoff if front ends keep dying. Owns
 * SIGINT/SIGTERM: asks every child to drain, then exits.
 */
export class Supervisor {
  readonly #config: SupervisorOptions;
  readonly #log: LogSink;
  readonly #useStandby: boolean;
  readonly #frontEnds = new Set<FrontEnd>();
  #port: number;
  #deaths = 0;
  #lastDeathAt = 0;
  #stopping = false;
  #spawnTimer: NodeJS.Timeout | undefined;
  /** Apps that lost inline entries; every front end, present and future, is told. */
  readonly #demotedApps = new Set<string>();
  /** When the latest inline stalls were reported (epoch ms); InlinePolicy keeps only the recent ones. */
  #recentStallsAt: number[] = [];

  constructor(options: SupervisorOptions, log: LogSink) {
    this.#config = options;
    this.#log = log;
    this.#port = options.port;
    this.#useStandby = options.standby ?? true;
  }

  /**
   * Start the first front end; resolves with the port and the listening
   * front end's PID. Rejects RuntimeError with its one-line reason.
   */
  async start(): Promise<{ port: number; pid: number }> {
    // uSockets sets SO_REUSEPORT only for an explicit port, and a replacement
    // front end must be able to bind next to the one it replaces: so port 0
    // is resolved to a concrete free port here, once.
    if (this.#port === 0) this.#port = await pickFreePort(this.#config.host);
    const port = await new Promise<number>((resolve, reject) => {
      this.#spawn("active", { onReady: resolve, onStartFailure: reject });
    });
    if (this.#useStandby) this.#spawn("standby");
    return { port, pid: this.pids("active")[0] ?? 0 };
  }

  /** PIDs of live front ends by role (for operators and tests). */
  pids(role: Role): number[] {
    return [...this.#frontEnds].filter((f) => f.role === role && f.child.pid !== undefined).map((f) => f.child.pid as number);
  }

  #spawn(role: "active" | "standby", hooks: { onReady?: (port: number) => void; onStartFailure?: (error: RuntimeError) => void } = {}): void {
    // fd 4 is for the hang watchdog's thread, which cannot use the IPC channel.
    const child = fork(FRONT_END_MAIN, [], {
      execArgv: ["--no-node-snapshot"],
      stdio: ["ignore", "inherit", "inherit", "ipc", "pipe"],
    });
    const frontEnd: FrontEnd = { child, role, ready: false, readyAt: 0, promoteWhenReady: false, appIds: new Map() };
    const stallReports = child.stdio[4] as Readable | null | undefined;
    if (stallReports) {
      createInterface({ input: stallReports }).on("line", (line) => this.#onStallReport(frontEnd, line));
    }
    this.#frontEnds.add(frontEnd);
    let fatalMessage: string | undefined;
    child.on("message", (message: unknown) => {
      if (!isFrontEndMessage(message)) return;
      switch (message.type) {
        case "ready":
          frontEnd.ready = true;
          frontEnd.readyAt = Date.now();
          if (message.listening) {
            this.#port = message.port;
            this.#retireReplaced(frontEnd);
            hooks.onReady?.(message.port);
          } else if (frontEnd.promoteWhenReady) {
            this.#promote(frontEnd);
          } else {
            this.#log({ level: "info", message: `standby front end ${child.pid} ready` });
          }
          break;
        case "fatal":
          fatalMessage = message.message;
          break;
        case "replace-me":
          if (frontEnd.role === "active" && !this.#stopping) {
            frontEnd.role = "retiring";
            this.#log({ level: "error", message: `front end ${child.pid} lost an isolate and must be replaced` });
            this.#reconcile(0);
          }
          break;
        case "inline-demoted":
          this.#log({ level: "warn", app: message.app, message: `an inline entry ran ${Math.round(message.entryMs)} ms; the app runs on the isolate thread pool in every front end from now on` });
          this.#demote(message.app, frontEnd);
          break;
        case "inline-app":
          frontEnd.appIds.set(message.appId, message.app);
          break;
        case "versions-changed":
          this.#tellOthers(frontEnd, { type: "sync-versions" });
          break;
        case "config-reloaded":
          this.#tellOthers(frontEnd, { type: "reload" });
          break;
      }
    });
    child.on("exit", (code, signal) => this.#onExit(frontEnd, code, signal, fatalMessage, hooks.onStartFailure));
    const message: SupervisorMessage = {
      type: "start",
      source: this.#config.source,
      port: this.#port,
      listen: role === "active",
      demotedApps: [...this.#demotedApps],
      recentStallsAt: this.#recentStallsAt,
    };
    child.send(message);
  }

  #onExit(
    frontEnd: FrontEnd,
    code: number | null,
    signal: NodeJS.Signals | null,
    fatalMessage: string | undefined,
    onStartFailure: ((error: RuntimeError) => void) | undefined,
  ): void {
    this.#frontEnds.delete(frontEnd);
    if (this.#stopping) return;
    const how = signal ?? `exit code ${String(code)}`;
    if (!frontEnd.ready && onStartFailure) {
      const reason = fatalMessage ?? `front end exited during start-up (${how})`;
      onStartFailure(new RuntimeError(fatalMessage ? "EDGE_RUNTIME_APP_FAILED" : "EDGE_RUNTIME_CHILD_FAILED", reason));
      return;
    }
    if (frontEnd.role === "retiring") return;
    const name = frontEnd.role === "standby" ? "standby front end" : "front end";
    this.#log({ level: "error", message: `${name} ${frontEnd.child.pid} died (${fatalMessage ?? how})` });
    this.#reconcile(frontEnd.ready ? Date.now() - frontEnd.readyAt : 0);
  }

  /**
   * The hang watchdog of `frontEnd` says its thread has been inside one
   * app's inline entry well past the deadline. Whatever the end (the entry
   * returns, or the thread is lost), the standby takes the port now; the
   * stalled one is told to drain once the standby listens, and answers
   * everything it holds if its thread comes back. The app never runs
   * inline again, in any front end.
   */
  #onStallReport(frontEnd: FrontEnd, line: string): void {
    const match = /^stall (\d+)$/.exec(line.trim());
    if (match === null) return;
    const app = frontEnd.appIds.get(Number(match[1]));
    if (app !== undefined) this.#demote(app, frontEnd);
    if (frontEnd.role !== "active" || this.#stopping) return;
    frontEnd.role = "retiring";
    this.#log({ level: "error", message: `front end ${frontEnd.child.pid} stalled in ${app ?? "an app"}'s inline entry; the standby takes over` });
    this.#reconcile(0);
  }

  #demote(app: string, from: FrontEnd): void {
    if (this.#demotedApps.has(app)) return;
    this.#demotedApps.add(app);
    this.#recentStallsAt = [...this.#recentStallsAt, Date.now()].slice(-LOCKDOWN_STALLS);
    for (const frontEnd of this.#frontEnds) {
      if (frontEnd !== from && frontEnd.child.connected) frontEnd.child.send({ type: "demote-inline", app } satisfies SupervisorMessage);
    }
  }

  #promote(standby: FrontEnd): void {
    standby.role = "active";
    standby.promoteWhenReady = false;
    this.#log({ level: "error", message: `standby front end ${standby.child.pid} takes over` });
    this.#send(standby, { type: "listen" });
  }

  /**
   * Bring the set of front ends back to one active and one standby. A
   * missing active is replaced by the standby (at once if it is booted,
   * else as soon as it is); anything that must be spawned is spawned after
   * the backoff for front ends that keep dying.
   */
  #reconcile(upForMs: number): void {
    if (this.#stopping) return;
    const live = [...this.#frontEnds];
    const hasActive = live.some((f) => f.role === "active");
    if (!hasActive) {
      this.#noteDeath(upForMs);
      const standby = live.find((f) => f.role === "standby" && f.ready) ?? live.find((f) => f.role === "standby");
      if (standby?.ready) this.#promote(standby);
      else if (standby) standby.promoteWhenReady = true;
    }
    this.#scheduleSpawn();
  }

  #noteDeath(upForMs: number): void {
    if (upForMs > STABLE_AFTER_MS || Date.now() - this.#lastDeathAt > STABLE_AFTER_MS) this.#deaths = 0;
    this.#deaths++;
    this.#lastDeathAt = Date.now();
  }

  /** Spawn whatever is missing, after the current backoff. */
  #scheduleSpawn(): void {
    if (this.#stopping || this.#spawnTimer !== undefined) return;
    const delay = RESTART_BACKOFF_MS[Math.min(Math.max(this.#deaths - 1, 0), RESTART_BACKOFF_MS.length - 1)] ?? 0;
    this.#spawnTimer = setTimeout(() => {
      this.#spawnTimer = undefined;
      if (this.#stopping) return;
      const live = [...this.#frontEnds];
      const activeOrPromoting = live.some((f) => f.role === "active" || f.promoteWhenReady);
      if (!activeOrPromoting) this.#spawn("active");
      else if (this.#useStandby && !live.some((f) => f.role === "standby" && !f.promoteWhenReady)) this.#spawn("standby");
      else return;
      // Both may be missing (everything died): come back for the other one.
      this.#scheduleSpawn();
    }, delay);
  }

  /** A replacement is listening: front ends it replaces may now drain and go. */
  #retireReplaced(newcomer: FrontEnd): void {
    for (const frontEnd of this.#frontEnds) {
      if (frontEnd !== newcomer && frontEnd.role === "retiring") this.#send(frontEnd, { type: "shutdown" });
    }
  }

  #send(frontEnd: FrontEnd, message: SupervisorMessage): void {
    if (frontEnd.child.connected) frontEnd.child.send(message);
    else frontEnd.child.kill("SIGTERM");
  }

  /** Pass what one front end did on to every other one (admin API deploys and reloads). */
  #tellOthers(from: FrontEnd, message: SupervisorMessage): void {
    for (const frontEnd of this.#frontEnds) {
      if (frontEnd !== from && frontEnd.child.connected) this.#send(frontEnd, message);
    }
  }

  /** Tell every front end to load the config again (SIGHUP, as nginx does). */
  reload(): void {
    if (this.#config.source.kind !== "serve") return;
    this.#log({ level: "info", message: "reloading the configuration" });
    for (const frontEnd of this.#frontEnds) {
      if (frontEnd.child.connected) this.#send(frontEnd, { type: "reload" });
    }
  }

  /** Ask every front end to drain and exit; resolves when all have exited. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#spawnTimer);
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
