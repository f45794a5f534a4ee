import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as esbuild from "esbuild";

/** What the `workerd` npm package exports (its lib/main.js ships no typings). */
interface WorkerdPackage {
  /** Absolute path of the native binary. */
  readonly default: string;
  /** The newest compatibility date this build supports. */
  readonly compatibilityDate: string;
  readonly version: string;
}

function workerdPackage(): WorkerdPackage {
  const require = createRequire(import.meta.url);
  return require("workerd") as WorkerdPackage;
}

/** Path of the native workerd binary from the `workerd` npm package (no Node wrapper in between). */
export function workerdBinaryPath(): string {
  return workerdPackage().default;
}

/** Version of the installed `workerd` npm package, e.g. `1.20261117.1`. */
export function workerdVersion(): string {
  return workerdPackage().version;
}

/**
 * Compatibility date written into generated configs: the newest date the
 * installed workerd supports, so it runs with its most spec-conforming
 * behaviour (older dates keep legacy quirks for backwards compatibility).
 */
export function workerdCompatibilityDate(): string {
  return workerdPackage().compatibilityDate;
}

/** Name of the socket in the generated config (used by `--socket-addr` / control messages). */
export const WORKERD_SOCKET_NAME = "http";

/** A generated workerd config in its own temp directory. */
export interface WorkerdConfig {
  /** The temp directory holding `config.capnp` and `app.js`. */
  readonly dir: string;
  /** Absolute path of `config.capnp`. */
  readonly configPath: string;
  /** Remove the temp directory. */
  cleanup(): Promise<void>;
}

/** Options of {@link writeWorkerdConfig}. */
export interface WorkerdConfigOptions {
  /**
   * Listen address. Default `127.0.0.1:0`: workerd picks a free port and
   * reports it on the control descriptor (see {@link workerdServeArgs}).
   */
  readonly address?: string;
  /** Default: {@link workerdCompatibilityDate}. */
  readonly compatibilityDate?: string;
  /** Plain-text bindings (`env.KEY`), as `edgehost run --var KEY=VALUE` gives them. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Parent of the temp directory. Default: the OS temp directory. */
  readonly parentDir?: string;
}

/**
 * Bundle an app entry (`.ts`/`.js`) into one ES module for workerd. The same
 * esbuild settings as edgehost's loader where they matter (neutral platform,
 * workerd/worker/browser conditions, ES2022), but ESM output: workerd wants
 * a module with a default export, edgehost an IIFE.
 */
export async function bundleForWorkerd(entryPath: string): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [resolve(entryPath)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["browser", "module", "main"],
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    // workerd's own modules (cloudflare:workers, node:*) are imported at run time, as wrangler leaves them.
    external: ["cloudflare:*", "node:*"],
    write: false,
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced no output for ${entryPath}`);
  return output.text;
}

/** Cap'n Proto text string literal (JSON string escaping is a subset capnp accepts). */
function capnpString(value: string): string {
  return JSON.stringify(value);
}

/** The capnp text of a config serving `app.js` (next to it) on one HTTP socket. */
export function workerdConfigText(address: string, compatibilityDate: string, vars: Readonly<Record<string, string>>): string {
  const bindings = Object.entries(vars).map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`);
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "app", worker = .appWorker) ],
  sockets = [ (name = ${capnpString(WORKERD_SOCKET_NAME)}, address = ${capnpString(address)}, http = (), service = "app") ],
);

const appWorker :Workerd.Worker = (
  modules = [ (name = "app.js", esModule = embed "app.js") ],
  compatibilityDate = ${capnpString(compatibilityDate)},
  bindings = [ ${bindings.join(", ")} ],
);
`;
}

/**
 * Bundle `entryPath` and write a workerd config serving it into a fresh temp
 * directory. Rejects if esbuild fails (the app does not build).
 */
export async function writeWorkerdConfig(entryPath: string, options: WorkerdConfigOptions = {}): Promise<WorkerdConfig> {
  const code = await bundleForWorkerd(entryPath);
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), "edgehost-workerd-"));
  const configPath = join(dir, "config.capnp");
  await writeFile(join(dir, "app.js"), code);
  await writeFile(
    configPath,
    workerdConfigText(options.address ?? "127.0.0.1:0", options.compatibilityDate ?? workerdCompatibilityDate(), options.vars ?? {}),
  );
  return { dir, configPath, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Arguments for `workerd serve`: with `controlFd`, workerd writes one JSON
 * line per socket to that descriptor once it listens,
 * `{"event":"listen","socket":"http","port":N}`; parse it with
 * {@link parseWorkerdListenPort}. That is how a port-0 config reports its port.
 */
export function workerdServeArgs(configPath: string, controlFd?: number): string[] {
  const args = ["serve", configPath];
  if (controlFd !== undefined) args.push("--control-fd", String(controlFd));
  return args;
}

/** The port in a control line announcing that the config's socket listens, or undefined for other lines. */
export function parseWorkerdListenPort(line: string): number | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const { event, socket, port } = message as { event?: unknown; socket?: unknown; port?: unknown };
  if (event !== "listen" || socket !== WORKERD_SOCKET_NAME || typeof port !== "number") return undefined;
  return port;
}
