import anyTest, { type TestFn } from "ava";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { REPO_ROOT, startEdgehost, type RunningEdgehost } from "./helpers/edgehost-process.js";
import { headValues, rawExchange } from "./helpers/raw-head.js";
import { startWorkerd, type RunningWorkerd } from "./helpers/workerd.js";

/**
 * The same apps under workerd (the reference) and edgehost, the same
 * requests to both, and the responses compared: status, body bytes, and the
 * headers an app controls (content-type, location, set-cookie list, x-*).
 * Headers each server adds on its own (date, server, content-length vs
 * chunked) are not compared.
 */

const APPS = {
  hello: join(REPO_ROOT, "examples/hello/app.ts"),
  json: join(REPO_ROOT, "examples/json/app.ts"),
  differential: join(REPO_ROOT, "test/fixtures/differential/app.ts"),
  streams: join(REPO_ROOT, "test/fixtures/differential-streams/app.ts"),
  // Blob, File, multipart FormData, structuredClone, HEAD and reason phrases (blobs).
  webPlatform: join(REPO_ROOT, "test/fixtures/web-platform/app.ts"),
  webcrypto: join(REPO_ROOT, "test/fixtures/webcrypto/app.ts"),
  // export default class extends WorkerEntrypoint, cloudflare:workers' env and waitUntil.
  entrypoint: join(REPO_ROOT, "test/fixtures/workers-entrypoint/app.ts"),
} as const;
type AppName = keyof typeof APPS;

/** Text bindings given to both servers (env and, in both, process.env). */
const APP_VARS: Partial<Record<AppName, Record<string, string>>> = {
  webPlatform: { MODE: "diff", API_URL: "https://api.example.test/v1" },
  entrypoint: { MODE: "entrypoint" },
};

interface Servers {
  readonly edgehost: RunningEdgehost;
  readonly workerd: RunningWorkerd;
}

const test = anyTest as TestFn<{ servers: Map<AppName, Servers> }>;

test.before(async (t) => {
  t.context.servers = new Map();
  const started: Array<RunningEdgehost | RunningWorkerd> = [];
  try {
    // Sequentially per app, so a failure names the server that failed.
    for (const [app, entry] of Object.entries(APPS) as Array<[AppName, string]>) {
      const vars = APP_VARS[app] ?? {};
      const workerd = await startWorkerd(entry, { vars });
      started.push(workerd);
      const edgehost = await startEdgehost(
        entry,
        Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}=${value}`]),
      );
      started.push(edgehost);
      t.context.servers.set(app, { edgehost, workerd });
    }
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    t.context.servers.clear();
    throw error;
  }
});

test.after.always(async (t) => {
  await Promise.all([...t.context.servers.values()].flatMap(({ edgehost, workerd }) => [edgehost.stop(), workerd.stop()]));
});

interface Probe {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string | FormData;
}

/** What is compared of one response. */
interface Observed {
  readonly status: number;
  /** content-type, location and every x-* header either server sent; null = absent. */
  readonly headers: Record<string, string | null>;
  readonly setCookie: readonly string[];
  readonly bodyBase64: string;
}

interface Raw {
  readonly status: number;
  readonly headers: Headers;
  readonly origin: string;
  readonly body: Buffer;
}

async function send(origin: string, path: string, probe: Probe): Promise<Raw> {
  const init: RequestInit = { method: probe.method ?? "GET", redirect: "manual" };
  if (probe.headers) init.headers = probe.headers;
  if (probe.body !== undefined) init.body = probe.body;
  const response = await fetch(`${origin}${path}`, init);
  return { status: response.status, headers: response.headers, origin, body: Buffer.from(await response.arrayBuffer()) };
}

/** The headers an app sets itself; the rest (date, server, content-length) are the server's own. */
function appHeaderNames(headers: Headers): string[] {
  return [...headers.keys()].filter((name) => name.startsWith("x-"));
}

function compared(raw: Raw, names: readonly string[]): Observed {
  const headers: Record<string, string | null> = {};
  for (const name of names) {
    // A location on the server's own origin differs only by port between the two.
    headers[name] = raw.headers.get(name)?.replace(raw.origin, "ORIGIN") ?? null;
  }
  return { status: raw.status, headers, setCookie: raw.headers.getSetCookie(), bodyBase64: raw.body.toString("base64") };
}

/** Bytes 0..255 repeated, shuffled deterministically: every byte value, no valid UTF-8 structure. */
function binaryBody(lengthBytes: number): Uint8Array {
  const bytes = new Uint8Array(lengthBytes);
  let state = 0x2545f491;
  for (let index = 0; index < bytes.length; index++) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    bytes[index] = (index + (state >>> 24)) & 0xff;
  }
  return bytes;
}

const sameResponse = test.macro({
  async exec(t, app: AppName, path: string, probe: Probe = {}) {
    const servers = t.context.servers.get(app);
    if (!servers) throw new Error(`servers for ${app} did not start`);
    const workerd = await send(servers.workerd.origin, path, probe);
    const edgehost = await send(servers.edgehost.url, path, probe);
    const names = [...new Set(["content-type", "location", ...appHeaderNames(workerd.headers), ...appHeaderNames(edgehost.headers)])].sort();
    t.deepEqual(compared(edgehost, names), compared(workerd, names));
  },
  title(_provided, app: AppName, path: string, probe: Probe = {}) {
    return `differential workerd: ${app} ${probe.method ?? "GET"} ${path} answers as workerd does`;
  },
});

test(sameResponse, "hello", "/");
test(sameResponse, "hello", "/json");
test(sameResponse, "hello", "/deep/path/?q=1#fragment");
test(sameResponse, "hello", "/caf%C3%A9/%7Euser");
test(sameResponse, "hello", "/", { method: "POST", body: "ignored" });

test(sameResponse, "json", "/api/items/42?fields=name,price&sort=asc");
test(sameResponse, "json", "/");
test(sameResponse, "json", "/a/b?x=1&x=2&empty=&flag");
test(sameResponse, "json", "/items/7", { method: "PUT", body: "{}" });
test(sameResponse, "json", "/items/x?fields=", { method: "DELETE" });

for (const status of [200, 201, 204, 400, 404, 418, 500, 503]) {
  test(sameResponse, "differential", `/status/${status}`);
}
test(sameResponse, "differential", "/headers", { headers: { "x-echo": "hello", "X-Other": "a, b", "x-empty": "" } });
test(sameResponse, "differential", "/echo", {
  method: "POST",
  headers: { "content-type": "application/octet-stream" },
  body: binaryBody(65_536),
});
test(sameResponse, "differential", "/echo", { method: "PUT" });
test(sameResponse, "differential", "/text", { method: "POST", headers: { "content-type": "text/plain; charset=utf-8" }, body: "héllo wörld ☃ 𝄞" });
test(sameResponse, "differential", "/query?a=1&a=2&b=%20x+y&flag&c=%E2%98%83&d==eq&z=last");
test(sameResponse, "differential", "/query");
test(sameResponse, "differential", "/json");
test(sameResponse, "differential", "/redirect/relative");
test(sameResponse, "differential", "/redirect/absolute");
test(sameResponse, "differential", "/cookies");
test(sameResponse, "differential", "/bytes");
test(sameResponse, "differential", "/no/such/route");

// streams: stream bodies, compression round trips and text streams.
const streamsText = "Streams on the edge: ".repeat(200) + "é☃𝄞";
test.serial(sameResponse, "streams", "/stream");
test.serial(sameResponse, "streams", "/round-trip/gzip", { method: "POST", body: streamsText });
test.serial(sameResponse, "streams", "/round-trip/deflate", { method: "POST", body: streamsText });
test.serial(sameResponse, "streams", "/round-trip/deflate-raw", { method: "POST", body: streamsText });
test.serial(sameResponse, "streams", "/gunzip", { method: "POST", body: new Uint8Array(gzipSync(Buffer.from(streamsText))) });
test.serial(sameResponse, "streams", "/text-streams", { method: "POST", body: streamsText });
test.serial(sameResponse, "streams", "/body-used", { method: "POST", body: "some bytes" });
test.serial(sameResponse, "streams", "/upload-stream", { method: "POST", body: binaryBody(8 * 1024 * 1024) });
/** A multipart upload as Node's own FormData encodes it: a binary file and text fields. */
function uploadForm(): FormData {
  const form = new FormData();
  form.append("title", "Quarterly ☃ report");
  form.append("file", new Blob([binaryBody(100_000)], { type: "application/x-custom" }), "report final.bin");
  form.append("tag", "a");
  form.append("tag", "b\r\nc");
  return form;
}

test(sameResponse, "webPlatform", "/upload", { method: "POST", body: uploadForm() });
test(sameResponse, "webPlatform", "/form-echo");
test(sameResponse, "webPlatform", "/clone");
test(sameResponse, "webPlatform", "/clone-transfer");
test(sameResponse, "webPlatform", "/clone-errors");
test(sameResponse, "webPlatform", "/redirect-mode");
test(sameResponse, "webPlatform", "/workers-globals");
test(sameResponse, "webPlatform", "/es-builtins");
test(sameResponse, "webPlatform", "/digest-stream");
test(sameResponse, "webPlatform", "/node-buffer");
test(sameResponse, "webPlatform", "/process");
test.serial(sameResponse, "entrypoint", "/first");
test.serial(sameResponse, "entrypoint", "/second");
test(sameResponse, "webPlatform", "/url-pattern");
test(sameResponse, "webPlatform", "/workers-streams");
test(sameResponse, "webPlatform", "/fixed-length");

/** Status line, Content-Length, x-kind and body size as they went over the wire (HEAD and reason phrases). */
const sameHead = test.macro({
  async exec(t, method: string, path: string) {
    const servers = t.context.servers.get("webPlatform");
    if (!servers) throw new Error("servers for webPlatform did not start");
    const observe = async (port: number): Promise<unknown> => {
      const head = await rawExchange(port, method, path);
      return { statusLine: head.statusLine, contentLength: headValues(head, "content-length"), kind: headValues(head, "x-kind"), bodyBytes: head.bodyBytes };
    };
    t.deepEqual(await observe(servers.edgehost.port), await observe(servers.workerd.port));
  },
  title(_provided, method: string, path: string) {
    return `differential workerd: webPlatform ${method} ${path} has the same status line and framing as workerd`;
  },
});

test(sameHead, "HEAD", "/");
test(sameHead, "HEAD", "/no-body");
test(sameHead, "GET", "/teapot");
// (A FixedLengthStream body's Content-Length framing is checked in run-fixed-length.test.ts: sameHead pipelines a
// second request after the head, and the pinned uWS closes a connection that pipelines while a body still streams.)
// WebCrypto: JWTs (HS256, ES256, EdDSA) signed and verified, an AES-GCM round trip.
for (const kind of ["hs256", "es256", "eddsa"]) test(sameResponse, "webcrypto", `/jwt/${kind}`);
test(sameResponse, "webcrypto", "/aes-gcm");
