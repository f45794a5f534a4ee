/**
 * `edgehost deploy <name> <entry>` and `edgehost rollback <name>`: clients
 * of a running server's admin API. deploy uploads the app's source files
 * (the server builds them confined to what was uploaded, so what runs is
 * exactly what was sent), not a local bundle.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { bundleApp, isLoaderError } from "../loader/index.js";
import { ADMIN_TOKEN_ENV, cliAdminToken } from "./config/index.js";
import type { DeploySettings } from "./cli-args.js";
import { RuntimeError } from "./errors.js";

export interface AdminClientOptions {
  readonly adminUrl: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface DeployOptions extends AdminClientOptions {
  readonly routes?: readonly string[];
  readonly note?: string;
  /** vars, limits and outbound allow list of an app created through the admin API. */
  readonly settings?: DeploySettings;
  readonly activate: boolean;
}

/** The token is read from the environment, never a flag: flags show up in `ps`. */
function token(env: NodeJS.ProcessEnv): string {
  const value = cliAdminToken(env);
  if (value === undefined) throw new RuntimeError("EDGE_RUNTIME_ADMIN_TOKEN_MISSING", `set ${ADMIN_TOKEN_ENV} to the admin API's token (the value of the server's admin.tokenEnv variable)`);
  return value;
}

/** One admin API call; a refusal becomes a RuntimeError with the server's error name and message. */
async function callAdmin(options: AdminClientOptions, method: string, apiPath: string, body?: unknown): Promise<Record<string, unknown>> {
  const url = new URL(apiPath, options.adminUrl.endsWith("/") ? options.adminUrl : `${options.adminUrl}/`);
  const bearer = token(options.env ?? process.env);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new RuntimeError("EDGE_RUNTIME_ADMIN_UNREACHABLE", `cannot reach the admin API at ${url.origin}: ${cause?.code ?? cause?.message ?? String(error)}`);
  }
  const text = await response.text();
  let reply: Record<string, unknown> = {};
  try {
    reply = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not ours (a proxy's page); reported below by status.
  }
  if (!response.ok) {
    const what = typeof reply.error === "string" ? reply.error : "not an edgehost admin API";
    const why = typeof reply.message === "string" ? `: ${reply.message}` : "";
    throw new RuntimeError("EDGE_RUNTIME_ADMIN_REFUSED", `${method} ${url.pathname} answered ${response.status} ${what}${why}`);
  }
  return reply;
}

/** The deepest directory holding every file. */
function commonDir(files: readonly string[]): string {
  let dir = path.dirname(files[0] as string);
  for (const file of files) {
    while (path.relative(dir, file).startsWith("..")) dir = path.dirname(dir);
  }
  return dir;
}

/**
 * The app's files as an upload: every source file the entry imports (found
 * by building it here), relative to their common directory, plus each
 * package.json between them and that directory (how a confined build
 * resolves a package's entry point).
 */
export async function collectUpload(entry: string): Promise<{ entry: string; files: Record<string, string> }> {
  let inputs: readonly string[];
  let entryPath: string;
  try {
    const bundle = await bundleApp(entry, { cache: false });
    inputs = bundle.inputs;
    entryPath = bundle.entryPath;
  } catch (error) {
    if (isLoaderError(error)) throw new RuntimeError("EDGE_RUNTIME_APP_FAILED", error.message);
    throw error;
  }
  const root = commonDir([entryPath, ...inputs]);
  const wanted = new Set(inputs);
  for (const input of inputs) {
    for (let dir = path.dirname(input); dir.length > root.length; dir = path.dirname(dir)) wanted.add(path.join(dir, "package.json"));
  }
  const files: Record<string, string> = {};
  for (const file of wanted) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue; // a directory with no package.json
    }
    files[path.relative(root, file).split(path.sep).join("/")] = text;
  }
  return { entry: path.relative(root, entryPath).split(path.sep).join("/"), files };
}

/** Uploads the app, returns the line to print. */
export async function deploy(name: string, entry: string, options: DeployOptions): Promise<string> {
  const upload = await collectUpload(entry);
  const reply = await callAdmin(options, "POST", `apps/${encodeURIComponent(name)}/versions`, {
    ...upload,
    activate: options.activate,
    ...(options.routes === undefined || options.routes.length === 0 ? {} : { routes: options.routes }),
    ...(options.note === undefined ? {} : { note: options.note }),
    ...(options.settings === undefined ? {} : { settings: options.settings }),
  });
  const id = (reply.version as { id?: unknown } | undefined)?.id;
  const count = Object.keys(upload.files).length;
  return `edgehost: ${options.activate ? "deployed" : "stored"} ${name} version ${String(id)} (${count} file${count === 1 ? "" : "s"})`;
}

/** Rolls the app back, returns the line to print. */
export async function rollback(name: string, options: AdminClientOptions): Promise<string> {
  const reply = await callAdmin(options, "POST", `apps/${encodeURIComponent(name)}/rollback`);
  const id = (reply.active as { id?: unknown } | undefined)?.id;
  return `edgehost: rolled ${name} back to version ${String(id)}`;
}
