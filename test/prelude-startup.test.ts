import test from "ava";
import ivm from "isolated-vm";
import { preludeScript } from "./helpers/prelude-harness.js";

/**
 * Start-up cost of the prelude: logs the numbers (evaluation time, time from
 * isolate creation to first response, heap and RSS of an idle isolate) and
 * guards against gross regressions with bounds loose enough for a shared CI
 * machine. The targets the numbers are read against: < 5 ms to first response,
 * < 3 MB RSS per idle isolate.
 */

const HOST_STUB = `globalThis.__edgehost_host = { log() {}, randomBytes(n) { return new ArrayBuffer(n); }, digest() { return new ArrayBuffer(32); }, digestStart() {}, cryptoStart() {}, cryptoSync() { return "async"; }, bodyChunk() {}, requestBodyPull() {}, requestBodyCancel() {},
  respond() {}, respondWithFetchedBody() {}, fail() {}, waitUntilDone() {}, fetchStart() {}, fetchAbort() {}, fetchBodyPull() {}, fetchBodyCancel() {}, timerStart() {}, timerClear() {}, loadModule() { return "bad_argument"; } };`;
const APP = `var __edgehost_app = { default: { fetch() { return new Response("ok"); } } };`;
const RUNS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** V8 code cache for the prelude, produced the way a host would (at compile time). */
async function preludeCodeCache(): Promise<ivm.ExternalCopy<ArrayBuffer>> {
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  try {
    const script = (await isolate.compileScript(preludeScript(), { produceCachedData: true })) as ivm.Script & ivm.CachedDataResult;
    if (script.cachedData === undefined) throw new Error("no cached data produced");
    return script.cachedData;
  } finally {
    isolate.dispose();
  }
}

interface BootedIsolate {
  isolate: ivm.Isolate;
  context: ivm.Context;
  dispatch: ivm.Reference<(...args: unknown[]) => unknown>;
  /** Isolate and context creation plus the host stub. */
  createMs: number;
  /** Prelude compile (from the code cache) and run. */
  evaluationMs: number;
}

async function boot(cache: ivm.ExternalCopy<ArrayBuffer>): Promise<BootedIsolate> {
  const created = process.hrtime.bigint();
  const isolate = new ivm.Isolate({ memoryLimit: 128 });
  const context = await isolate.createContext();
  await context.eval(HOST_STUB);
  const createMs = msSince(created);
  const start = process.hrtime.bigint();
  const script = await isolate.compileScript(preludeScript(), { cachedData: cache, filename: "edgehost:prelude" });
  const dispatch = (await script.run(context, { reference: true })) as ivm.Reference<(...args: unknown[]) => unknown>;
  script.release();
  return { isolate, context, dispatch, createMs, evaluationMs: msSince(start) };
}

test.serial("prelude start-up: evaluation time, first response time and heap of a fresh isolate", async (t) => {
  const cache = await preludeCodeCache();
  const creation: number[] = [];
  const evaluation: number[] = [];
  const appInit: number[] = [];
  const request: number[] = [];
  const firstResponse: number[] = [];
  const heapUsed: number[] = [];
  const urlHeapDelta: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const booted = await boot(cache);
    try {
      const appStart = process.hrtime.bigint();
      await booted.context.eval(APP);
      t.is(await booted.dispatch.apply(undefined, ["init", {}], { arguments: { copy: true }, result: { copy: true } }), "");
      const requestStart = process.hrtime.bigint();
      appInit.push(Number(requestStart - appStart) / 1e6);
      await booted.dispatch.apply(undefined, ["request", "r1", "GET", "https://app.example/", [], null], { arguments: { copy: true } });
      request.push(msSince(requestStart));
      firstResponse.push(msSince(start));
      creation.push(booted.createMs);
      evaluation.push(booted.evaluationMs);
      const idle = booted.isolate.getHeapStatisticsSync().used_heap_size;
      heapUsed.push(idle);
      await booted.context.eval(`new URL("https://example.com/").href`);
      urlHeapDelta.push(booted.isolate.getHeapStatisticsSync().used_heap_size - idle);
    } finally {
      booted.dispatch.release();
      booted.isolate.dispose();
    }
  }
  t.log(`prelude evaluation (compile with code cache + run): median ${median(evaluation).toFixed(2)} ms`);
  t.log(`isolate creation to first response (simple app): median ${median(firstResponse).toFixed(2)} ms`);
  t.log(`  of which: create isolate+context ${median(creation).toFixed(2)}, prelude ${median(evaluation).toFixed(2)}, app+init ${median(appInit).toFixed(2)}, request ${median(request).toFixed(2)} ms`);
  t.log(`heap used by a fresh isolate with prelude and app: median ${(median(heapUsed) / 1024).toFixed(0)} KiB`);
  t.log(`heap added by the first URL use (lazy whatwg-url): median ${(median(urlHeapDelta) / 1024).toFixed(0)} KiB`);
  t.true(median(evaluation) < 50, `prelude evaluation took ${median(evaluation)} ms`);
  t.true(median(heapUsed) < 3 * 1024 * 1024, `fresh isolate uses ${median(heapUsed)} bytes of heap`);
  // whatwg-url was not evaluated at boot: its first use still allocates.
  t.true(median(urlHeapDelta) > 64 * 1024, `first URL use added only ${median(urlHeapDelta)} bytes`);
});

test.serial("prelude start-up: resident memory per idle isolate", async (t) => {
  const cache = await preludeCodeCache();
  const count = 20;
  const isolates: BootedIsolate[] = [];
  // One isolate first, so one-time process costs (thread pool, code) are not counted.
  isolates.push(await boot(cache));
  const before = process.memoryUsage().rss;
  try {
    for (let i = 0; i < count; i++) {
      const booted = await boot(cache);
      await booted.context.eval(APP);
      await booted.dispatch.apply(undefined, ["init", {}], { arguments: { copy: true }, result: { copy: true } });
      isolates.push(booted);
    }
    const perIsolate = (process.memoryUsage().rss - before) / count;
    t.log(`RSS per idle isolate with prelude and app: ${(perIsolate / 1024 / 1024).toFixed(2)} MiB (over ${count} isolates)`);
    t.true(perIsolate < 8 * 1024 * 1024, `${perIsolate} bytes per isolate`);
  } finally {
    for (const booted of isolates) {
      booted.dispatch.release();
      booted.isolate.dispose();
    }
  }
});
