/**
 * Many tenants in one front end, in-process: real uWS on 127.0.0.1, real
 * isolates, the dispatcher and the warm cache as `edgehost serve` wires
 * them, spoken to over HTTP.
 */
import test from "ava";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dispatcher, type RouteTable } from "../runtime/front-end/dispatcher.js";
import { Tenant, type TenantContext, type TenantSpec } from "../runtime/front-end/tenant.js";
import { HttpServer, type RequestHandler } from "../runtime/http-server.js";
import type { LogLine } from "../runtime/logger.js";
import { DEFAULT_SANDBOX_LIMITS, EntryScheduler, WarmIsolates } from "../sandbox/index.js";

interface Served {
  readonly origin: string;
  readonly tenants: Map<string, Tenant>;
  readonly warm: WarmIsolates;
  readonly logs: LogLine[];
  close(): void;
}

/** Routes by exact host (the real router is tested on its own). */
function hostTable(tenants: Map<string, Tenant>): RouteTable<RequestHandler> {
  return {
    match: (host) => {
      const tenant = tenants.get(host.replace(/:\d+$/, "").replace(/\.test$/, ""));
      return tenant === undefined ? undefined : { target: tenant };
    },
  };
}

async function serve(
  apps: Record<string, string>,
  options: { maxIsolates?: number; concurrency?: number; queue?: number; replicas?: number; inlineEntryThresholdMs?: number; env?: Record<string, Record<string, string>> } = {},
): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), "edgehost-serve-"));
  const logs: LogLine[] = [];
  const warm = new WarmIsolates({ maxIsolates: options.maxIsolates ?? 100, maxMemoryBytes: 4096 * 1024 * 1024, idleTtlMs: 600_000 });
  const context: TenantContext = {
    scheduler: new EntryScheduler(),
    warm,
    log: (line) => logs.push(line),
    onCatastrophicError: () => undefined,
    inlineEntryThresholdMs: options.inlineEntryThresholdMs ?? 1,
  };
  const tenants = new Map<string, Tenant>();
  for (const [name, source] of Object.entries(apps)) {
    const entryPath = join(dir, `${name}.ts`);
    writeFileSync(entryPath, source);
    const spec: TenantSpec = {
      name,
      entryPath,
      env: options.env?.[name] ?? {},
      limits: { ...DEFAULT_SANDBOX_LIMITS, cpuLimitMs: 2000 },
      bodyLimitBytes: 1024 * 1024,
      concurrency: options.concurrency ?? 64,
      queue: options.queue ?? 64,
      allowPrivateFetch: false,
      replicas: options.replicas ?? 1,
    };
    tenants.set(name, new Tenant(spec, context));
  }
  const server = new HttpServer({ host: "127.0.0.1", port: 0, bodyLimitBytes: 1024 * 1024, dispatcher: new Dispatcher(hostTable(tenants)), log: (line) => logs.push(line) });
  const port = await server.listen();
  return {
    origin: `http://127.0.0.1:${port}`,
    tenants,
    warm,
    logs,
    close: () => {
      server.close();
      warm.clear();
      for (const tenant of tenants.values()) tenant.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET `path` with the Host header of `app` (fetch does not let a caller set Host; undici.request does). */
async function get(served: Served, app: string, path = "/"): Promise<Response> {
  const { request } = await import("undici");
  const response = await request(`${served.origin}${path}`, { headers: { host: `${app}.test` } });
  const body = Buffer.from(await response.body.arrayBuffer());
  return new Response(response.statusCode === 204 ? null : body, {
    status: response.statusCode,
    headers: Object.entries(response.headers).map(([name, value]) => [name, String(value)]),
  });
}

const bootIdApp = `
const bootId = String(Math.random());
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/slow") await new Promise((resolve) => setTimeout(resolve, 300));
    return new Response(bootId);
  },
};
`;

test("serve: tenants see only their own vars, globals and built-ins", async (t) => {
  const patcher = `
globalThis.shared = "from-a";
String.prototype.toUpperCase = function () { return "patched"; };
export default { fetch(request, env) { return new Response(JSON.stringify({ key: env.KEY ?? null, shared: globalThis.shared ?? null, upper: "x".toUpperCase() })); } };
`;
  const reader = `
export default { fetch(request, env) { return new Response(JSON.stringify({ key: env.KEY ?? null, shared: globalThis.shared ?? null, upper: "x".toUpperCase() })); } };
`;
  const served = await serve({ a: patcher, b: reader }, { env: { a: { KEY: "secret-a" } } });
  try {
    t.deepEqual(await (await get(served, "a")).json(), { key: "secret-a", shared: "from-a", upper: "patched" });
    t.deepEqual(await (await get(served, "b")).json(), { key: null, shared: null, upper: "X" });
  } finally {
    served.close();
  }
});

test("serve: a host no app claims is 404 with a JSON body", async (t) => {
  const served = await serve({ a: bootIdApp });
  try {
    const response = await get(served, "nobody");
    t.is(response.status, 404);
    const body = (await response.json()) as { error: string; requestId: string };
    t.is(body.error, "no_route");
    t.truthy(body.requestId);
  } finally {
    served.close();
  }
});

test("serve: configured apps build nothing until their first request", async (t) => {
  const apps: Record<string, string> = {};
  for (let i = 0; i < 200; i++) apps[`app${i}`] = bootIdApp;
  const served = await serve(apps);
  try {
    t.is([...served.tenants.values()].filter((tenant) => tenant.host !== undefined).length, 0);
    t.is((await get(served, "app7")).status, 200);
    t.deepEqual(
      [...served.tenants.values()].filter((tenant) => tenant.host !== undefined).map((tenant) => tenant.appName),
      ["app7"],
    );
    t.is(served.warm.size, 1);
  } finally {
    served.close();
  }
});

test("serve: past its concurrency and queue an app answers 503 concurrency_limit with Retry-After; the others are served", async (t) => {
  const served = await serve({ busy: bootIdApp, calm: bootIdApp }, { concurrency: 1, queue: 1 });
  try {
    const responses = await Promise.all([get(served, "busy", "/slow"), get(served, "busy", "/slow"), get(served, "busy", "/slow"), get(served, "calm")]);
    const busy = responses.slice(0, 3).map((response) => response.status).sort();
    t.deepEqual(busy, [200, 200, 503]);
    const refused = responses.find((response) => response.status === 503) as Response;
    t.is(((await refused.json()) as { error: string }).error, "concurrency_limit");
    t.is(refused.headers.get("retry-after"), "1");
    t.is((responses[3]).status, 200);
  } finally {
    served.close();
  }
});

test("serve: the warm cache evicts the least recently used app, never under a request in flight; the evicted app cold-starts", async (t) => {
  const served = await serve({ a: bootIdApp, b: bootIdApp }, { maxIsolates: 1 });
  try {
    const firstA = await (await get(served, "a")).text();
    // A slow request keeps a's isolate busy while b's first request evicts a.
    const slowA = get(served, "a", "/slow");
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.is((await get(served, "b")).status, 200);
    t.false(served.warm.has("a"));
    const slow = await slowA;
    t.is(slow.status, 200, "the request in flight finished in the evicted isolate");
    t.is(await slow.text(), firstA);
    // The next request to a starts a new isolate (a new boot id) and evicts b.
    const secondA = await (await get(served, "a")).text();
    t.not(secondA, firstA);
    t.false(served.warm.has("b"));
    t.is(served.tenants.get("b")?.host?.isolates.length, 0, "b's idle isolate was disposed");
  } finally {
    served.close();
  }
});

const busyApp = `
const bootId = String(Math.random());
export default {
  fetch() {
    const end = Date.now() + 40;
    while (Date.now() < end) {}
    return new Response(bootId);
  },
};
`;

test("serve: an app whose entries run inline gets no replica under concurrent requests (regression: Zipf traffic over 1,000 tenants made ~200 replica cold starts in 5 s)", async (t) => {
  // A generous inline threshold, so that a loaded test machine cannot make the hello entries look slow.
  const served = await serve({ fast: bootIdApp }, { replicas: 2, inlineEntryThresholdMs: 50 });
  try {
    // The first entry of an isolate goes to the pool (its duration is unknown); the next ones run inline.
    for (let i = 0; i < 3; i++) t.is((await get(served, "fast")).status, 200);
    const ids = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const responses = await Promise.all(Array.from({ length: 8 }, () => get(served, "fast")));
      for (const response of responses) ids.add(await response.text());
    }
    t.is(ids.size, 1);
    t.is(served.tenants.get("fast")?.replicaCount, 1);
  } finally {
    served.close();
  }
});

test("serve: a hot app gets up to its replicas of isolates, each with its own globals; one replica means one isolate", async (t) => {
  for (const replicas of [1, 2]) {
    const served = await serve({ hot: busyApp }, { replicas });
    try {
      await get(served, "hot");
      const ids = new Set<string>();
      for (let round = 0; round < 3; round++) {
        const responses = await Promise.all(Array.from({ length: 4 }, () => get(served, "hot")));
        for (const response of responses) ids.add(await response.text());
      }
      t.is(ids.size, replicas, `replicas ${replicas}`);
      t.is(served.tenants.get("hot")?.replicaCount, replicas);
    } finally {
      served.close();
    }
  }
});
