import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchAppName } from "./contenders/reference-apps.js";
import type { LaunchSpec } from "./server-process.js";
import { parseWorkerdListenPort, workerdBinaryPath, workerdServeArgs, writeWorkerdConfig } from "./workerd-config.js";

/** Repository root (this module runs from dist/bench/). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The servers compared, in table order. */
export const CONTENDER_NAMES = ["edgehost", "uws", "node-http", "workerd"] as const;
export type ContenderName = (typeof CONTENDER_NAMES)[number];

/** True if `name` is one of {@link CONTENDER_NAMES}. */
export function isContenderName(name: string): name is ContenderName {
  return (CONTENDER_NAMES as readonly string[]).includes(name);
}

/** Label in the tables. */
export const CONTENDER_LABELS: Readonly<Record<ContenderName, string>> = {
  edgehost: "edgehost (isolate behind uWS)",
  uws: "raw uWS (no isolate)",
  "node-http": "node:http (no isolate)",
  workerd: "workerd",
};

/** A benchmark app: its source and the request wrk sends. */
export interface BenchApp {
  readonly name: BenchAppName;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  /** Path and query of the request under load. */
  readonly path: string;
}

export const BENCH_APPS: Readonly<Record<BenchAppName, BenchApp>> = {
  hello: { name: "hello", entry: "examples/hello/app.ts", path: "/" },
  json: { name: "json", entry: "examples/json/app.ts", path: "/api/items/42?fields=name,price&sort=asc" },
};

/** A contender ready to spawn, plus whatever has to be removed afterwards. */
export interface PreparedContender {
  readonly spec: LaunchSpec;
  cleanup(): Promise<void>;
}

const LISTENING = /^listening on http:\/\/127\.0\.0\.1:(\d+)\//;
const EDGEHOST_READY = /^edgehost: serving .* at http:\/\/127\.0\.0\.1:(\d+)\//;

function contenderScript(file: string): string {
  return join(REPO_ROOT, "dist", "bench", "contenders", file);
}

/**
 * How to start edgehost's `run` command serving the app at `entry` (absolute)
 * on 127.0.0.1:`port`, with `extraArgs` after the defaults (limits, say).
 * `cliPath` is the `bin/edgehost.js` to run: this checkout's unless given.
 */
export function edgehostLaunchSpec(entry: string, port: number, extraArgs: readonly string[] = [], cliPath = join(REPO_ROOT, "bin", "edgehost.js")): LaunchSpec {
  return {
    command: process.execPath,
    args: [cliPath, "run", entry, "--port", String(port), "--host", "127.0.0.1", ...extraArgs],
    cwd: REPO_ROOT,
    ready: { kind: "stdout", pattern: EDGEHOST_READY },
  };
}

/** Bundle the app at `entry` (absolute) for workerd and say how to start it on 127.0.0.1:`port`. */
export async function prepareWorkerd(entry: string, port: number, tmpDir: string): Promise<PreparedContender> {
  const config = await writeWorkerdConfig(entry, { address: `127.0.0.1:${port}`, parentDir: tmpDir });
  return {
    spec: {
      command: workerdBinaryPath(),
      args: workerdServeArgs(config.configPath, 3),
      cwd: config.dir,
      ready: { kind: "control-fd", parsePort: parseWorkerdListenPort },
    },
    cleanup: () => config.cleanup(),
  };
}

/**
 * How to start `contender` serving `app` on 127.0.0.1:`port` (0 = any free
 * port, announced by the ready signal). For workerd this bundles the app and
 * writes its config into a temp directory under `tmpDir`.
 */
export async function prepareContender(contender: ContenderName, app: BenchApp, port: number, tmpDir: string): Promise<PreparedContender> {
  const entry = join(REPO_ROOT, app.entry);
  const none = async (): Promise<void> => undefined;
  switch (contender) {
    case "edgehost":
      return { spec: edgehostLaunchSpec(entry, port), cleanup: none };
    case "uws":
    case "node-http":
      return {
        spec: {
          command: process.execPath,
          args: [contenderScript(`${contender}-server.js`), "--app", app.name, "--port", String(port)],
          cwd: REPO_ROOT,
          ready: { kind: "stdout", pattern: LISTENING },
        },
        cleanup: none,
      };
    case "workerd":
      return prepareWorkerd(entry, port, tmpDir);
  }
}
