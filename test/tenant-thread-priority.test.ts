/**
 * Tenant threads below the event loop (sandbox/tenant-thread-priority.ts):
 * in a fresh process isolated-vm's pool is found whole and lowered, the
 * main thread is left alone; a real front end runs with every thread at 0
 * by default, and with its pool at the value of `--tenant-nice` (its own
 * thread still at 0); a value out of range is a clear config error.
 */
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { runEdgehostToExit } from "./helpers/edgehost-process.js";
import { threadNiceValues } from "./helpers/thread-nice.js";
import { withApp } from "./helpers/with-app.js";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("./helpers/tenant-nice-child.js", import.meta.url));
/** isolated-vm 5.0.4's pool: hardware concurrency + 1 threads. */
const ISOLATE_POOL_THREADS = cpus().length + 1;

interface Outcome {
  readonly nice: number;
  readonly mainThread: number;
  readonly mainNice: number;
  readonly niceOf: number[];
  readonly isolatePoolThreads: number[];
  readonly problems: string[];
}

const digestApp = `
export default {
  async fetch(request: Request) {
    // Past the synchronous digest size: hashed on the digest thread.
    if (new URL(request.url).pathname === "/digest") await crypto.subtle.digest("SHA-256", new Uint8Array(1024 * 1024));
    return new Response("ok");
  },
};
`;

function countAt(values: Map<number, number>, nice: number): number {
  return [...values.values()].filter((value) => value === nice).length;
}

test("a fresh process: the isolate pool is found whole and lowered, the main thread is not; a second call finds the pool already started", async (t) => {
  const { stdout } = await run(process.execPath, ["--no-node-snapshot", CHILD, "7", "again"]);
  const { first, second } = JSON.parse(stdout) as { first: Outcome; second: Outcome };
  t.deepEqual(first.problems, []);
  t.is(new Set(first.isolatePoolThreads).size, ISOLATE_POOL_THREADS);
  t.false(first.isolatePoolThreads.includes(first.mainThread), "the event loop is not a pool thread");
  // What the child read back: its pool threads at 7, its main thread at 0.
  t.deepEqual(first.niceOf, first.isolatePoolThreads.map(() => 7));
  t.is(first.mainNice, 0);
  // The isolate pool is not new any more: the call says so instead of lowering the wrong threads.
  t.is(second.isolatePoolThreads.length, 0);
  t.true(second.problems.some((problem) => /isolated-vm pool: found 0 new/.test(problem)), second.problems.join("; "));
});

test("edgehost run --tenant-nice 10: the front end's isolate pool threads (and the digest thread) run at nice 10, its event loop at 0", async (t) => {
  await withApp(t, digestApp, ["--tenant-nice", "10"], async (server) => {
    t.is(await (await fetch(`${server.url}/digest`)).text(), "ok");
    const values = threadNiceValues(server.frontEndPid);
    t.is(values.get(server.frontEndPid), 0, "the event loop keeps the default priority");
    // The pool, the digest thread, and any timer thread a pool thread started.
    t.true(countAt(values, 10) >= ISOLATE_POOL_THREADS + 1, JSON.stringify([...values]));
    t.true(countAt(values, 0) >= 1);
    t.false(server.output().includes("tenant threads not all below"), server.output());
  });
});

test("edgehost run leaves every thread at the event loop's priority by default; --tenant-nice 4 uses 4", async (t) => {
  await withApp(t, digestApp, [], async (server) => {
    t.is(await (await fetch(`${server.url}/digest`)).text(), "ok");
    const values = threadNiceValues(server.frontEndPid);
    t.is(countAt(values, 0), values.size, JSON.stringify([...values]));
  });
  await withApp(t, digestApp, ["--tenant-nice", "4"], async (server) => {
    t.is(await (await fetch(`${server.url}/digest`)).text(), "ok");
    const values = threadNiceValues(server.frontEndPid);
    t.is(values.get(server.frontEndPid), 0);
    t.true(countAt(values, 4) >= ISOLATE_POOL_THREADS + 1, JSON.stringify([...values]));
  });
});

test("edgehost run --tenant-nice past 19 is one clear config error", async (t) => {
  const finished = await runEdgehostToExit(["run", "examples/hello/app.ts", "--port", "0", "--tenant-nice", "20"]);
  t.not(finished.code, 0);
  const output = finished.stdout + finished.stderr;
  t.regex(output, /tenantThreadNice: .*19/);
  t.notRegex(output, /\n\s+at /, "no stack trace");
});
