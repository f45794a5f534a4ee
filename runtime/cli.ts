/**
 * `edgehost` command line: parses arguments, validates the configuration,
 * checks the port, and runs the supervisor. User errors print one line to
 * stderr and exit 1; no stack traces for things the user can fix.
 */
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { relative } from "node:path";
import { parseCli, USAGE } from "./cli-args.js";
import { isRuntimeError, RuntimeError } from "./errors.js";
import { consoleSink } from "./logger.js";
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
  const supervisor = new Supervisor(config, consoleSink);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("edgehost: shutting down\n");
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
  const shown = config.host.includes(":") ? `[${config.host}]` : config.host;
  const entry = relative(process.cwd(), config.entry) || config.entry;
  process.stdout.write(`edgehost: serving ${entry} at http://${shown}:${port}/ (front end pid ${pid})\n`);
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
    }
  } catch (error) {
    if (isRuntimeError(error)) {
      process.stderr.write(`edgehost: error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
