/**
 * `edgehost tail <name>`: an app's live log lines and requests, read from
 * the admin API's Server-Sent Events (`GET /apps/:name/tail`) and printed
 * one line per record. Ctrl-C ends it with status 0; a refusal (401, 404,
 * 503), an unreachable server or a stream the server closes is a one-line
 * error and status 1.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { escapeLogText } from "../sandbox/index.js";
import { ADMIN_TOKEN_ENV } from "./config/index.js";
import { RuntimeError } from "./errors.js";

/** Where `--admin` points by default: the admin listener of a local serve. */
export const DEFAULT_ADMIN_URL = "http://127.0.0.1:8788";

export type TailFormat = "json" | "pretty";

export interface TailCommandOptions {
  readonly app: string;
  /** The admin listener's base URL. */
  readonly adminUrl: string;
  readonly format: TailFormat;
  /** From EDGEHOST_ADMIN_TOKEN; undefined = unset. */
  readonly token: string | undefined;
  /** Where lines go. Default: stdout. */
  readonly print?: (line: string) => void;
}

/** One Server-Sent Event. */
interface ServerEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * An incremental Server-Sent Events parser (WHATWG HTML, "event stream
 * interpretation"): `event` and `data` fields, comments ignored, an event
 * dispatched at each blank line. Returns the function to feed text to.
 */
export function eventStreamParser(onEvent: (event: ServerEvent) => void): (text: string) => void {
  let pending = "";
  let name = "";
  let data: string[] = [];
  return (text) => {
    pending += text;
    // A trailing CR may be the first half of a CRLF: keep it for the next chunk.
    const lines = pending.split(/\r\n|\r(?!$)|\n/);
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (data.length > 0) onEvent({ event: name === "" ? "message" : name, data: data.join("\n") });
        name = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
  };
}

function text(value: unknown): string {
  return escapeLogText(typeof value === "string" ? value : String(value));
}

function timeOf(record: Record<string, unknown>): string {
  const time = typeof record.time === "number" ? new Date(record.time) : new Date();
  return Number.isNaN(time.getTime()) ? "-" : time.toISOString();
}

/**
 * One record as the line `--format pretty` prints: `<time> <status>
 * <method> <path> <ms>ms [error]` for a request, `<time> <level> <message>`
 * for a log line. Every field is escaped (control characters, line breaks,
 * bidi overrides), so no record prints as two lines or drives the terminal.
 * Undefined for an event it does not know.
 */
export function prettyLine(event: string, record: Record<string, unknown>): string | undefined {
  const time = timeOf(record);
  switch (event) {
    case "request": {
      const error = record.error === undefined ? "" : ` ${text(record.error)}`;
      return `${time} ${text(record.status)} ${text(record.method)} ${text(record.path)} ${text(record.durationMs)}ms${error}`;
    }
    case "log":
      return `${time} ${text(record.level)} ${text(record.message)}`;
    case "dropped":
      return `${time} dropped ${text(record.dropped)} records (the tail fell behind)`;
    default:
      return undefined;
  }
}

/** The message for a refused tail request, by status and catalogued error. */
function refusal(status: number, error: string | undefined, app: string, url: URL): string {
  switch (error) {
    case "admin_unauthorized":
      return `the admin API at ${url.origin} refused the token (401 admin_unauthorized); check ${ADMIN_TOKEN_ENV}`;
    case "admin_token_not_configured":
      return `the admin API at ${url.origin} has no token configured (403 admin_token_not_configured), so it refuses every request`;
    case "admin_no_such_app":
      return `no app named ${JSON.stringify(app)} (404 admin_no_such_app)`;
    case "admin_tail_limit":
      return `too many live tails of ${JSON.stringify(app)} or of this server (503 admin_tail_limit); close one and retry`;
    case "admin_not_found":
      return `${url.origin} has no tail endpoint (404 admin_not_found); is --admin the admin listener?`;
    default:
      return `the admin API answered ${status}${error === undefined ? "" : ` ${error}`} for ${url.href}`;
  }
}

function errorField(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { error?: unknown }).error === "string") return (parsed as { error: string }).error;
  } catch {
    // Not JSON: no catalogued error to name.
  }
  return undefined;
}

function tailUrl(adminUrl: string, app: string): URL {
  let base: URL;
  try {
    base = new URL(adminUrl);
  } catch {
    throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--admin expects a URL such as ${DEFAULT_ADMIN_URL}, got ${JSON.stringify(adminUrl)}`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new RuntimeError("EDGE_RUNTIME_BAD_ARGUMENTS", `--admin expects an http or https URL, got ${JSON.stringify(adminUrl)}`);
  return new URL(`${base.pathname.replace(/\/+$/, "")}/apps/${encodeURIComponent(app)}/tail`, base);
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      if (body.length < 64 * 1024) body += chunk;
    });
    response.on("end", () => resolve(body));
    response.on("error", () => resolve(body));
  });
}

/**
 * Run the tail until the server ends the stream (rejects: RuntimeError
 * ADMIN_UNREACHABLE) or the process gets SIGINT (exits 0). Rejects with
 * ADMIN_TOKEN_MISSING, ADMIN_REFUSED or ADMIN_UNREACHABLE, each one line.
 */
export async function tailCommand(options: TailCommandOptions): Promise<void> {
  const url = tailUrl(options.adminUrl, options.app);
  if (options.token === undefined) {
    throw new RuntimeError("EDGE_RUNTIME_ADMIN_TOKEN_MISSING", `edgehost tail needs the admin token in ${ADMIN_TOKEN_ENV} (the value of the server's admin.tokenEnv variable)`);
  }
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  // A closed pipe (`edgehost tail app | head`) is the reader being done, not a failure.
  process.stdout.on("error", () => process.exit(0));
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const request = send(url, { method: "GET", headers: { authorization: `Bearer ${options.token}`, accept: "text/event-stream" } });
  process.once("SIGINT", () => {
    request.destroy();
    process.exit(0);
  });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", (error: NodeJS.ErrnoException) => {
      const reason = error.code === "ECONNREFUSED" ? "connection refused" : (error.code ?? error.message);
      reject(new RuntimeError("EDGE_RUNTIME_ADMIN_UNREACHABLE", `cannot reach the admin API at ${url.origin}: ${reason}`));
    });
    request.end();
  });
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    const body = await readBody(response);
    throw new RuntimeError("EDGE_RUNTIME_ADMIN_REFUSED", refusal(status, errorField(body), options.app, url));
  }
  const feed = eventStreamParser(({ event, data }) => {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof record !== "object" || record === null) return;
    const line = options.format === "json" ? JSON.stringify(record) : prettyLine(event, record);
    if (line !== undefined) print(line);
  });
  response.setEncoding("utf8");
  await new Promise<void>((_resolve, reject) => {
    response.on("data", (chunk: string) => feed(chunk));
    const ended = (): void => reject(new RuntimeError("EDGE_RUNTIME_ADMIN_UNREACHABLE", `the server at ${url.origin} ended the tail (shutdown or hand-over)`));
    response.once("end", ended);
    response.once("error", ended);
    response.once("aborted", ended);
  });
}
