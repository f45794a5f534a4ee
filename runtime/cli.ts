/**
 * `edgehost` command line: parses arguments, validates the configuration,
 * checks the port, and runs the supervisor. User errors print one line to
 * stderr and exit 1; no stack traces for things the user can fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { relative, resolve } from "node:path";
import { parseCli, USAGE } from "./cli-args.js";
import { deploy, rollback } from "./cli-deploy.js";
import { DEFAULT_ADMIN_URL, tailCommand } from "./cli-tail.js";
import { cliAdminToken, isConfigError, loadServeConfig } from "./config/index.js";
import { isRuntimeError, RuntimeError } from "./errors.js";
import { consoleSink } from "./logger.js";
import { jsonLogger, jsonSink } from "./observability/json-log.js";
import { resolveRunConfig, type RunConfig } from "./run-config.js";
import { Supervisor } from "./supervisor.js";

/** Fail early and clearly if something else holds the port (uWS itself would share it via SO_REUSEPORT). */
function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      const reason = error.code === "EADDRINUSE" ? "address already in use" : (error.code ?? error.message);
      reject(new RuntimeError("EDGE_RUNTIME_PORT_IN_USE", `cannot listen on ${host}:${port}: ${reason} (choose another with --port)`));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

async function run(config: RunConfig): Promise<void> {
  // Checked here too (the loader would say the same) so the user gets the
  // answer before a front-end process is even started.
  if (!existsSync(config.entry)) {
    throw new RuntimeError("EDGE_RUNTIME_APP_FAILED", `entry not found: ${relative(process.cwd(), config.entry) || config.entry}`);
  }
  await checkPortFree(config.host, config.port);
  const supervisor = new Supervisor({ source: { kind: "run", config }, host: config.host, port: config.port, shutdownTimeoutMs: config.shutdownTimeoutMs }, consoleSink);
  const entry = relative(process.cwd(), config.entry) || config.entry;
  await superviseUntilSignal(supervisor, config.host, `serving ${entry}`);
}

/**
 * `edgehost serve <config>`: the config is validated here first (every
 * problem at once, one line each, before any process starts); each front
 * end then loads the same file itself, so secrets never cross IPC.
 */
async function serve(file: string, port: number | undefined, host: string | undefined): Promise<void> {
  const path = resolve(file);
  const config = loadServeConfig(path);
  const listenHost = host ?? config.listen.host;
  const listenPort = port ?? config.listen.port;
  await checkPortFree(listenHost, listenPort);
  // Like the front ends' lines: an operator's log pipeline reads one JSON record per line.
  const log = jsonSink(jsonLogger());
  const supervisor = new Supervisor(
    { source: { kind: "serve", file: path, ...(host !== undefined ? { host } : {}) }, host: listenHost, port: listenPort, shutdownTimeoutMs: config.frontEnd.shutdownTimeoutMs },
    log,
  );
  // nginx's convention: SIGHUP reloads the config without a restart.
  process.on("SIGHUP", () => supervisor.reload());
  const apps = config.apps.length === 1 ? "1 app" : `${config.apps.length} apps`;
  await superviseUntilSignal(supervisor, listenHost, `serving ${apps} from ${relative(process.cwd(), path) || path}`, (line) => log({ level: "info", message: line }));
}

/** How the CLI's own lines go out: text for run, a JSON record for serve. */
type Announce = (line: string) => void;

const printLine: Announce = (line) => process.stdout.write(`${line}\n`);

async function superviseUntilSignal(supervisor: Supervisor, host: string, what: string, announce: Announce = printLine): Promise<void> {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    announce("edgehost: shutting down");
    supervisor.shutdown().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // Before anything can announce the server: a signal right after the
  // "serving" line must find its handler.
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const { port, pid } = await supervisor.start();
  const shown = host.includes(":") ? `[${host}]` : host;
  announce(`edgehost: ${what} at http://${shown}:${port}/ (front end pid ${pid})`);
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    const command = parseCli(argv);
    switch (command.kind) {
      case "help":
        process.stdout.write(`${USAGE}\n`);
        return;
      case "version":
        process.stdout.write(`edgehost ${version()}\n`);
        return;
      case "run":
        await run(resolveRunConfig(command.config));
        return;
      case "serve":
        await serve(command.file, command.port, command.host);
        return;
      case "deploy":
        process.stdout.write(
          `${await deploy(command.name, command.entry, {
            adminUrl: command.adminUrl,
            routes: command.routes,
            activate: command.activate,
            ...(command.note !== undefined ? { note: command.note } : {}),
            ...(command.settings !== undefined ? { settings: command.settings } : {}),
          })}\n`,
        );
        return;
      case "rollback":
        process.stdout.write(`${await rollback(command.name, { adminUrl: command.adminUrl })}\n`);
        return;
      case "tail":
        await tailCommand({ app: command.app, adminUrl: command.admin ?? DEFAULT_ADMIN_URL, format: command.format, token: cliAdminToken() });
        return;
    }
  } catch (error) {
    if (isConfigError(error)) {
      process.stderr.write(`edgehost: error: ${error.message}\n`);
      process.exit(1);
    }
    if (isRuntimeError(error)) {
      process.stderr.write(`edgehost: error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
