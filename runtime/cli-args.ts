import { parseArgs } from "node:util";
import { DEFAULT_ADMIN_URL } from "./cli-tail.js";
import { RuntimeError } from "./errors.js";

export const USAGE = `Usage:
  edgehost run <entry> [options]    serve one Workers-style app (.ts, .js, .mjs)
  edgehost serve <config> [--port N] [--host ADDR]
                                    serve every app of an edgehost.json (see runtime/config/README.md);
                                    the flags override its "listen"
  edgehost deploy <name> <entry> [--admin URL] [--route PATTERN]... [--note TEXT] [--no-activate]
                 [--var KEY=VALUE]... [--limit NAME=N]... [--allow HOST]...
                                    upload an app's source files to a running serve's admin API;
                                    it is built there, booted, then serves (--route for a new app;
                                    --var, --limit (cpuMs, memoryMb, ...) and --allow set an API
                                    app's vars, limits and outbound allow list, each kept until sent again)
  edgehost rollback <name> [--admin URL]
                                    serve the app's previous version again
  edgehost tail <name> [--admin URL] [--format pretty|json]
                                    print an app's live log lines and requests from a serve's admin API
                                    (deploy, rollback and tail read the admin token from EDGEHOST_ADMIN_TOKEN;
                                    --admin defaults to http://127.0.0.1:8788)

Options for run:
  --port N                 listen port (default 8787; 0 picks a free one)
  --host ADDR              listen address (default 127.0.0.1)
  --var KEY=VALUE          env var for the app (repeatable; .dev.vars beside the entry is read too)
  --watch                  rebuild and swap the isolate when a source file changes
  --cpu-ms N               CPU time per request (default 50)
  --memory-mb N            isolate heap limit (default 128)
  --wall-ms N              time to respond before 504 (default 30000)
  --startup-ms N           top-level evaluation limit (default 1000)
  --body-limit-mb N        request body limit (default 100)
  --subrequests N          outbound fetches per request (default 50)
  --allow-private-fetch    let the app fetch loopback/private addresses
  --max-executing N        isolates executing at once (default: core count)
  --inline-ms N            run entries of isolates averaging under N ms inline on the
                           front end's thread (default 1; 0 = always on the thread pool)
  --rss-limit-mb N         front-end RSS past which the largest isolate is recycled
                           (default 4 x --memory-mb + 512)
  --hang-kill-ms N         an inline entry this long past its deadline means the front end's
                           thread is lost: it is killed and the standby serves (default 10000)
  --tenant-nice N          OS priority (nice, 0-19) of the threads that run tenant work, below
                           the event loop's (default 0: the same; 10 for a machine edgehost has
                           to itself, see README)
  --help, --version`;

/** What the command line asked for. */
export type CliCommand =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "run"; readonly config: Record<string, unknown> }
  | { readonly kind: "serve"; readonly file: string; readonly port?: number; readonly host?: string }
  | {
      readonly kind: "deploy";
      readonly name: string;
      readonly entry: string;
      readonly adminUrl: string;
      readonly routes: readonly string[];
      readonly note?: string;
      readonly activate: boolean;
      /** An API app's settings from --var, --limit and --allow (checked by the server); absent when none was given. */
      readonly settings?: DeploySettings;
    }
  | { readonly kind: "rollback"; readonly name: string; readonly adminUrl: string }
  | { readonly kind: "tail"; readonly app: string; readonly admin?: string; readonly format: "json" | "pretty" };


/** Settings a deploy sends for an app created through the admin API. */
export interface DeploySettings {
  readonly vars?: Readonly<Record<string, string>>;
  readonly limits?: Readonly<Record<string, number>>;
  readonly outbound?: { readonly allow: readonly string[] };
}

/** Flags of the admin API clients (deploy, rollback, tail). */
const CLIENT_FLAGS = ["admin", "route", "note", "no-activate", "limit", "allow", "format"] as const;
/** Flags only deploy takes (and `var`, which run takes too). */
const DEPLOY_ONLY_FLAGS = ["route", "note", "no-activate", "limit", "allow"] as const;

/** Flags that only run takes (serve reads them from its config file). */
const RUN_ONLY_FLAGS = ["var", "watch", "cpu-ms", "memory-mb", "wall-ms", "startup-ms", "body-limit-mb", "subrequests", "allow-private-fetch", "max-executing", "inline-ms", "hang-kill-ms", "rss-limit-mb", "tenant-nice"] as const;

/** `KEY=VALUE` split at its first "=", or a bad-arguments error naming the flag. */
function keyValue(flag: string, text: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${flag} expects NAME=VALUE, got ${JSON.stringify(text)}`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** The settings --var, --limit and --allow ask for; the server checks names, ranges and patterns. */
function deploySettings(vars: readonly string[] | undefined, limits: readonly string[] | undefined, allow: readonly string[] | undefined): DeploySettings | undefined {
  if (vars === undefined && limits === undefined && allow === undefined) return undefined;
  const limitValues: Record<string, number> = {};
  for (const text of limits ?? []) {
    const [name, value] = keyValue("limit", text);
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number)) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--limit ${name} expects a number, got ${JSON.stringify(value)}`);
    limitValues[name] = number;
  }
  return {
    ...(vars === undefined ? {} : { vars: Object.fromEntries(vars.map((text) => keyValue("var", text))) }),
    ...(limits === undefined ? {} : { limits: limitValues }),
    ...(allow === undefined ? {} : { outbound: { allow } }),
  };
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number)) {
    throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${name} expects a number, got ${JSON.stringify(value)}`);
  }
  return number;
}

function parseVars(pairs: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--var expects KEY=VALUE, got ${JSON.stringify(pair)}`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}

/** Parse argv (without node and script). Throws RuntimeError(BAD_ARGUMENTS) with one line. */
export function parseCli(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        var: { type: "string", multiple: true },
        watch: { type: "boolean" },
        "cpu-ms": { type: "string" },
        "memory-mb": { type: "string" },
        "wall-ms": { type: "string" },
        "startup-ms": { type: "string" },
        "body-limit-mb": { type: "string" },
        subrequests: { type: "string" },
        "allow-private-fetch": { type: "boolean" },
        "max-executing": { type: "string" },
        "inline-ms": { type: "string" },
        "tenant-nice": { type: "string" },
        "hang-kill-ms": { type: "string" },
        "rss-limit-mb": { type: "string" },
        admin: { type: "string" },
        route: { type: "string", multiple: true },
        note: { type: "string" },
        "no-activate": { type: "boolean" },
        limit: { type: "string", multiple: true },
        allow: { type: "string", multiple: true },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (error) {
    throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const [command, entry, ...rest] = positionals;
  if (command === undefined) return { kind: "help" };
  if (command === "tail") {
    const deployOnly = DEPLOY_ONLY_FLAGS.find((flag) => values[flag] !== undefined);
    if (deployOnly !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${deployOnly} is a deploy option`);
    return tailCommand(values, entry, rest);
  }
  if (command === "deploy" || command === "rollback") {
    // --var is both run's and deploy's.
    const runOnly = [...RUN_ONLY_FLAGS.filter((flag) => flag !== "var" || command === "rollback"), "port", "host"].find((flag) => values[flag as keyof typeof values] !== undefined);
    if (runOnly !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${runOnly} is not an option of edgehost ${command}`);
    const adminUrl = values.admin ?? DEFAULT_ADMIN_URL;
    if (!URL.canParse(adminUrl) || !/^https?:$/.test(new URL(adminUrl).protocol)) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--admin expects an http(s) URL, got ${JSON.stringify(adminUrl)}`);
    if (entry === undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `edgehost ${command} needs an app name`);
    if (command === "rollback") {
      if (rest.length > 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `unexpected argument ${JSON.stringify(rest[0])}`);
      if (DEPLOY_ONLY_FLAGS.some((flag) => values[flag] !== undefined) || values.format !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", "edgehost rollback takes only --admin");
      return { kind: "rollback", name: entry, adminUrl };
    }
    if (values.format !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", "--format is a tail option");
    const [file, ...extra] = rest;
    if (file === undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", "edgehost deploy needs an app name and an entry file, e.g. edgehost deploy shop apps/shop/app.ts");
    if (extra.length > 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `unexpected argument ${JSON.stringify(extra[0])}`);
    const settings = deploySettings(values.var, values.limit, values.allow);
    return {
      kind: "deploy",
      name: entry,
      entry: file,
      adminUrl,
      routes: values.route ?? [],
      ...(values.note !== undefined ? { note: values.note } : {}),
      activate: values["no-activate"] !== true,
      ...(settings === undefined ? {} : { settings }),
    };
  }
  const clientFlag = CLIENT_FLAGS.find((flag) => values[flag] !== undefined);
  if (clientFlag !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${clientFlag} is an option of edgehost deploy, rollback and tail`);
  if (command === "serve") {
    if (entry === undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", "edgehost serve needs a config file, e.g. edgehost serve edgehost.json");
    if (rest.length > 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `unexpected argument ${JSON.stringify(rest[0])}`);
    const runOnly = RUN_ONLY_FLAGS.find((flag) => values[flag] !== undefined);
    if (runOnly !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${runOnly} is a run option; under serve it goes in the config file`);
    const port = numberFlag("port", values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--port expects 0-65535, got ${String(port)}`);
    return { kind: "serve", file: entry, ...(port !== undefined ? { port } : {}), ...(values.host !== undefined ? { host: values.host } : {}) };
  }
  if (command !== "run") throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `unknown command ${JSON.stringify(command)} (try: edgehost run <entry>, serve <config>, deploy <name> <entry>, rollback <name> or tail <name>)`);
  if (entry === undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", "edgehost run needs an entry file, e.g. edgehost run app.ts");
  if (rest.length > 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `unexpected argument ${JSON.stringify(rest[0])}`);
  const bodyLimitMb = numberFlag("body-limit-mb", values["body-limit-mb"]);
  const config: Record<string, unknown> = {
    entry,
    host: values.host,
    port: numberFlag("port", values.port),
    vars: parseVars(values.var ?? []),
    watch: values.watch,
    cpuLimitMs: numberFlag("cpu-ms", values["cpu-ms"]),
    memoryLimitMb: numberFlag("memory-mb", values["memory-mb"]),
    wallLimitMs: numberFlag("wall-ms", values["wall-ms"]),
    startupLimitMs: numberFlag("startup-ms", values["startup-ms"]),
    bodyLimitBytes: bodyLimitMb === undefined ? undefined : Math.round(bodyLimitMb * 1024 * 1024),
    subrequestLimit: numberFlag("subrequests", values.subrequests),
    allowPrivateFetch: values["allow-private-fetch"],
    maxExecuting: numberFlag("max-executing", values["max-executing"]),
    inlineThresholdMs: numberFlag("inline-ms", values["inline-ms"]),
    hangKillMs: numberFlag("hang-kill-ms", values["hang-kill-ms"]),
    rssLimitMb: numberFlag("rss-limit-mb", values["rss-limit-mb"]),
    tenantThreadNice: numberFlag("tenant-nice", values["tenant-nice"]),
  };
  for (const key of Object.keys(config)) if (config[key] === undefined) delete config[key];
  return { kind: "run", config };
}

/** `edgehost tail <name> [--admin URL] [--format pretty|json]`. */
function tailCommand(values: { readonly admin?: string | undefined; readonly format?: string | undefined } & Readonly<Record<string, unknown>>, app: string | undefined, rest: readonly string[]): CliCommand {
  if (app === undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", "edgehost tail needs an app name, e.g. edgehost tail shop");
  if (rest.length > 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `unexpected argument ${JSON.stringify(rest[0])}`);
  const other = [...RUN_ONLY_FLAGS, "port", "host"].find((flag) => values[flag] !== undefined);
  if (other !== undefined) throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--${other} is not a tail option (tail takes --admin and --format)`);
  const format = values.format ?? "pretty";
  if (format !== "pretty" && format !== "json") throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--format expects pretty or json, got ${JSON.stringify(format)}`);
  return { kind: "tail", app, format, ...(values.admin !== undefined ? { admin: values.admin } : {}) };
}
