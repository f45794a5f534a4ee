/**
 * The example apps (examples/hello, examples/json) written as plain host
 * functions, for the contenders that run no isolate (raw uWS, node:http).
 * They do the same work per request as the isolate versions: parse the URL
 * with the WHATWG parser, build the same body, so the comparison measures
 * the runtime and not different app logic.
 */

/** A response as the reference apps produce it. */
export interface ReferenceResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Names of the benchmark apps; each matches examples/<name>/app.ts. */
export const BENCH_APP_NAMES = ["hello", "json"] as const;
export type BenchAppName = (typeof BENCH_APP_NAMES)[number];

/** True if `name` is one of {@link BENCH_APP_NAMES}. */
export function isBenchAppName(name: string): name is BenchAppName {
  return (BENCH_APP_NAMES as readonly string[]).includes(name);
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

/** examples/hello/app.ts, without a GREETING var. */
function hello(url: URL): ReferenceResponse {
  if (url.pathname === "/json") {
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ hello: "world", path: url.pathname }) };
  }
  return { status: 200, contentType: TEXT, body: `Hello from edgehost! You asked for ${url.pathname}\n` };
}

/** examples/json/app.ts. */
function json(method: string, url: URL): ReferenceResponse {
  const segments = url.pathname.split("/").filter((segment) => segment.length > 0);
  const last = segments.at(-1);
  const id = last !== undefined && /^\d+$/.test(last) ? Number(last) : null;
  const fields = url.searchParams.get("fields");
  const body = JSON.stringify({
    method,
    path: url.pathname,
    segments,
    id,
    fields: fields === null ? [] : fields.split(","),
    query: Object.fromEntries(url.searchParams),
    hasQuery: url.search.length > 0,
  });
  return { status: 200, contentType: JSON_TYPE, body };
}

/** Answer one request for `app`; `url` is absolute (built from the Host header). */
export function answerReference(app: BenchAppName, method: string, url: string): ReferenceResponse {
  const parsed = new URL(url);
  switch (app) {
    case "hello":
      return hello(parsed);
    case "json":
      return json(method, parsed);
  }
}

/** Parse `--app NAME --port N` (the contender scripts' command line). Exits with a message on bad input. */
export function parseContenderArgs(argv: readonly string[]): { app: BenchAppName; port: number } {
  let app: string | undefined;
  let port = 0;
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (flag === "--app" && value !== undefined) app = value;
    else if (flag === "--port" && value !== undefined && /^\d+$/.test(value)) port = Number(value);
    else {
      process.stderr.write(`usage: --app ${BENCH_APP_NAMES.join("|")} [--port N]\n`);
      process.exit(2);
    }
  }
  if (app === undefined || !isBenchAppName(app)) {
    process.stderr.write(`usage: --app ${BENCH_APP_NAMES.join("|")} [--port N]\n`);
    process.exit(2);
  }
  return { app, port };
}

/** The line contender scripts print once they listen; the bench parses the port from it. */
export function listeningLine(port: number): string {
  return `listening on http://127.0.0.1:${port}/\n`;
}
