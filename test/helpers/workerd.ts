import { existsSync } from "node:fs";
import { startServerProcess, type ExitStatus } from "../../bench/server-process.js";
import { parseWorkerdListenPort, workerdBinaryPath, workerdServeArgs, writeWorkerdConfig } from "../../bench/workerd-config.js";

/** A workerd process serving one app, started by a test. */
export interface RunningWorkerd {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly origin: string;
  readonly port: number;
  /** Its stdout and stderr so far. */
  output(): string;
  /** SIGTERM, wait for the exit, remove the generated config. */
  stop(): Promise<ExitStatus>;
}

/** Options of {@link startWorkerd}. */
export interface StartWorkerdOptions {
  /** Plain-text bindings, like `edgehost run --var`. */
  readonly vars?: Readonly<Record<string, string>>;
}

/**
 * Bundle `entry`, generate a workerd config for it (bench/workerd-config.ts,
 * the same generator the benchmarks use) on 127.0.0.1 port 0, start the
 * `workerd` binary from the npm package and wait until it reports its port.
 * Rejects with one message that says workerd could not start here, and why:
 * a differential test must fail, not skip, when its reference is missing.
 */
export async function startWorkerd(entry: string, options: StartWorkerdOptions = {}): Promise<RunningWorkerd> {
  let binary: string;
  try {
    binary = workerdBinaryPath();
  } catch (error) {
    throw new Error(`workerd could not start: the workerd npm package is not installed (${(error as Error).message})`, { cause: error });
  }
  if (!existsSync(binary)) throw new Error(`workerd could not start: binary ${binary} is missing (reinstall the workerd package)`);
  const config = await writeWorkerdConfig(entry, { vars: options.vars ?? {} });
  try {
    const server = await startServerProcess(
      { command: binary, args: workerdServeArgs(config.configPath, 3), cwd: config.dir, ready: { kind: "control-fd", parsePort: parseWorkerdListenPort } },
      { readyTimeoutMs: 20_000 },
    );
    return {
      origin: server.origin,
      port: server.port,
      output: () => server.output(),
      async stop() {
        try {
          return await server.stop();
        } finally {
          await config.cleanup();
        }
      },
    };
  } catch (error) {
    await config.cleanup();
    throw new Error(`workerd could not start on this machine: ${(error as Error).message}`, { cause: error });
  }
}
