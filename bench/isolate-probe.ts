/**
 * In-process isolate measurements, run by the bench in a child process of
 * its own (it needs --no-node-snapshot for isolated-vm and --expose-gc, and
 * a fresh process so that RSS means something):
 *
 *   node --no-node-snapshot --expose-gc dist/bench/isolate-probe.js \
 *     --entry examples/hello/app.ts --mode startup|memory --count N
 *
 * Prints one JSON line ({@link StartupProbeResult} or
 * {@link MemoryProbeResult}) on stdout.
 */
import { parseArgs } from "node:util";
import { BUNDLE_FILENAME, bundleApp } from "../loader/index.js";
import { AppIsolate, DEFAULT_SANDBOX_LIMITS, EntryScheduler, type AppIsolateOptions } from "../sandbox/index.js";

/** One isolate from `AppIsolate.create` to its first response, in milliseconds. */
export interface IsolateStartSample {
  /** `AppIsolate.create`: isolate, context, prelude, app evaluation, export check. */
  readonly createMs: number;
  /** The first `fetch`, until its response is back on the host. */
  readonly firstResponseMs: number;
  readonly totalMs: number;
}

export interface StartupProbeResult {
  readonly mode: "startup";
  /** The very first isolate of the process: also produces the prelude's code cache. */
  readonly firstInProcess: IsolateStartSample;
  /** A new app each time: no code cache for its bundle (the prelude's is warm, as in a running server). */
  readonly newApp: readonly IsolateStartSample[];
  /** The same app again: its bundle's code cache is reused. */
  readonly warmCache: readonly IsolateStartSample[];
}

export interface MemoryProbeResult {
  readonly mode: "memory";
  readonly count: number;
  /** RSS after one isolate was created, used and disposed (caches warm), after gc. */
  readonly rssBaselineBytes: number;
  /** RSS with `count` idle isolates alive, after gc. */
  readonly rssWithIsolatesBytes: number;
  /** (with - baseline) / count. */
  readonly rssPerIsolateBytes: number;
  /** Mean of `stats().heapUsedBytes` (V8 heap used + external) over the idle isolates. */
  readonly heapUsedPerIsolateBytes: number;
  /** RSS after disposing them all again, after gc. */
  readonly rssAfterDisposeBytes: number;
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: { entry: { type: "string" }, mode: { type: "string" }, count: { type: "string" } },
});
const gc = (globalThis as { gc?: () => void }).gc;
if (values.entry === undefined || (values.mode !== "startup" && values.mode !== "memory") || gc === undefined) {
  process.stderr.write("usage: node --no-node-snapshot --expose-gc isolate-probe.js --entry FILE --mode startup|memory [--count N]\n");
  process.exit(2);
}
const count = Number(values.count ?? "20");
const bundle = await bundleApp(values.entry, { cache: false });
const scheduler = new EntryScheduler();
let nextRequestId = 0;

function isolateOptions(codeHash: string): AppIsolateOptions {
  return {
    appName: "bench",
    code: bundle.code,
    codeHash,
    bundleFilename: BUNDLE_FILENAME,
    env: {},
    limits: DEFAULT_SANDBOX_LIMITS,
    allowPrivateFetch: false,
    scheduler,
    log: () => undefined,
    onCatastrophicError: (message) => {
      process.stderr.write(`isolate-probe: catastrophic isolate error: ${message}\n`);
      process.exit(1);
    },
  };
}

/** Create an isolate, serve one GET /, check it answered 200. */
async function createAndServe(codeHash: string): Promise<{ isolate: AppIsolate; sample: IsolateStartSample }> {
  const startedAt = performance.now();
  const isolate = await AppIsolate.create(isolateOptions(codeHash));
  const createdAt = performance.now();
  const response = await isolate.fetch({
    id: `probe-${nextRequestId++}`,
    method: "GET",
    url: "http://127.0.0.1/",
    headers: ["host", "127.0.0.1"],
    body: null,
  });
  const answeredAt = performance.now();
  if (response.status !== 200) throw new Error(`isolate answered ${response.status}, expected 200`);
  return {
    isolate,
    sample: { createMs: createdAt - startedAt, firstResponseMs: answeredAt - createdAt, totalMs: answeredAt - startedAt },
  };
}

async function sampleOnce(codeHash: string): Promise<IsolateStartSample> {
  const { isolate, sample } = await createAndServe(codeHash);
  isolate.dispose();
  return sample;
}

function rss(): number {
  gc?.();
  return process.memoryUsage.rss();
}

async function startup(): Promise<StartupProbeResult> {
  const firstInProcess = await sampleOnce(`${bundle.hash}:first`);
  const newApp: IsolateStartSample[] = [];
  // A code-cache key never seen before stands for an app this process has not run yet.
  for (let index = 0; index < count; index++) newApp.push(await sampleOnce(`${bundle.hash}:new-${index}`));
  await sampleOnce(bundle.hash);
  const warmCache: IsolateStartSample[] = [];
  for (let index = 0; index < count; index++) warmCache.push(await sampleOnce(bundle.hash));
  return { mode: "startup", firstInProcess, newApp, warmCache };
}

async function memory(): Promise<MemoryProbeResult> {
  await sampleOnce(bundle.hash);
  const rssBaselineBytes = rss();
  const isolates: AppIsolate[] = [];
  for (let index = 0; index < count; index++) isolates.push((await createAndServe(bundle.hash)).isolate);
  const rssWithIsolatesBytes = rss();
  const heapUsed = isolates.reduce((sum, isolate) => sum + isolate.stats().heapUsedBytes, 0);
  for (const isolate of isolates) isolate.dispose();
  const rssAfterDisposeBytes = rss();
  return {
    mode: "memory",
    count,
    rssBaselineBytes,
    rssWithIsolatesBytes,
    rssPerIsolateBytes: (rssWithIsolatesBytes - rssBaselineBytes) / count,
    heapUsedPerIsolateBytes: heapUsed / count,
    rssAfterDisposeBytes,
  };
}

const result = values.mode === "startup" ? await startup() : await memory();
process.stdout.write(`${JSON.stringify(result)}\n`);
