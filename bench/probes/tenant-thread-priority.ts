/**
 * Experiment, not part of the product: the threads that run tenant work at
 * a lower OS priority (nice) than the front end's event loop. The noisy
 * server (bench/noisy-server.ts) calls it when EDGEHOST_EXPERIMENT_NICE is
 * set to the nice value wanted.
 *
 * The idea: an attacker's CPU burst runs on isolated-vm's pool (its isolate
 * spinning to the CPU limit) or on libuv's pool (zlib decoding its gzip
 * bombs). At equal priority the kernel shares a core fairly between that
 * burst and the event loop, so a victim's request waits out the attacker's
 * slice. At nice +10 (weight 110 against 1,024) the event loop should run as
 * soon as it wakes.
 *
 * Measured (npm run bench -- --noisy, victim p99 against alone, one run per
 * cell unless stated; the same minutes, nothing else running):
 * - one core, cpu-spin, two runs each: nice 0 4.97x / 4.90x, nice 10
 *   3.71x / 3.92x, nice 19 1.85x / 4.01x;
 * - one core, nice 10 against 0: memory balloon 3.74x / 2.98x, gzip
 *   subrequests 38x / 68x;
 * - two cores (--server-cpus 0,1), nice 10 against 0: cpu-spin 2.30x /
 *   2.60x, memory balloon 3.53x / 4.48x, gzip subrequests 12.2x / 14.2x.
 * About a fifth off, nowhere near the 2x target, and with a risk the bench
 * does not show: isolated-vm's timer threads come and go (one is started
 * whenever a timeout is due before every running timer thread's next one),
 * and one started by a pool thread inherits its nice value. A starved timer
 * thread builds the backlog that crashes isolated-vm 5.0.4
 * (laverdet/isolated-vm#572, ivm-timer-backlog.cjs beside this file). So
 * edgehost does not ship it.
 *
 * How the threads are found: Node names none of them ("node") and neither
 * pool gives out thread ids, so each pool is made to run a burst of short
 * jobs, one per pool thread, and the threads whose CPU time grew by most of
 * a job are that pool's. isolated-vm starts its pool threads on demand, so
 * its threads must also be new, which keeps V8's platform workers (which may
 * compile the burst's loop) out; this must run before the process's first
 * asynchronous isolate entry. Linux only.
 */
import { pbkdf2, pbkdf2Sync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { cpus, setPriority } from "node:os";
import ivm from "isolated-vm";

/** The nice value given to tenant threads (0 is the default, 19 the lowest). */
export const TENANT_THREAD_NICE = 10;

/** CPU time each burst job asks for. */
const BURST_JOB_MS = 6;

/** A thread counts as having run a job when it gained at least this much CPU. */
const RAN_JOB_MS = 1;

/** Bursts tried per pool before settling for the threads found. */
const MAX_BURSTS = 3;

/** Which threads were lowered, per pool, or why not. */
export interface TenantThreadPriorityOutcome {
  readonly nice: number;
  readonly isolatePoolThreads: readonly number[];
  readonly libuvPoolThreads: readonly number[];
  /** Set when a pool was not (completely) found or a call was refused. */
  readonly problems: readonly string[];
}

/** Thread id → CPU time so far (ns), from /proc/self/task/<tid>/schedstat. */
function threadCpuNs(): Map<number, number> {
  const byThread = new Map<number, number>();
  for (const name of readdirSync("/proc/self/task")) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${name}/schedstat`, "utf8").split(" ")[0]);
      if (Number.isFinite(ns)) byThread.set(Number(name), ns);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byThread;
}

/** Threads (not the main one) that gained at least RAN_JOB_MS of CPU between two readings. */
function threadsThatRan(before: Map<number, number>, after: Map<number, number>, mustBeNew: boolean): number[] {
  const ran: number[] = [];
  for (const [tid, ns] of after) {
    if (tid === process.pid) continue;
    const earlier = before.get(tid);
    if (mustBeNew && earlier !== undefined) continue;
    if (ns - (earlier ?? 0) >= RAN_JOB_MS * 1e6) ran.push(tid);
  }
  return ran;
}

/**
 * One burst on isolated-vm's pool: as many isolates as its threads
 * (hardware concurrency + 1 in 5.0.4), each spinning BURST_JOB_MS of wall
 * time, all entered at once so that each needs its own thread.
 */
async function isolatePoolBurst(threads: number): Promise<void> {
  const entries = Array.from({ length: threads }, () => {
    const isolate = new ivm.Isolate({ memoryLimit: 8 });
    const context = isolate.createContextSync();
    const script = isolate.compileScriptSync(`{ const end = Date.now() + ${BURST_JOB_MS}; while (Date.now() < end); }`);
    return { isolate, context, script };
  });
  try {
    await Promise.all(entries.map(({ context, script }) => script.run(context)));
  } finally {
    for (const { isolate } of entries) isolate.dispose();
  }
}

/** One burst on libuv's pool: one pbkdf2 job per thread, each about BURST_JOB_MS of CPU. */
async function libuvPoolBurst(threads: number, iterations: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: threads },
      () => new Promise<void>((resolve, reject) => pbkdf2("edgehost", "thread-probe", iterations, 32, "sha256", (error) => (error ? reject(error) : resolve()))),
    ),
  );
}

/** pbkdf2 iterations that take about BURST_JOB_MS here. */
function pbkdf2IterationsForBurst(): number {
  const sample = 2_000;
  const started = performance.now();
  pbkdf2Sync("edgehost", "thread-probe", sample, 32, "sha256");
  const msPerIteration = Math.max(1e-6, (performance.now() - started) / sample);
  return Math.max(sample, Math.ceil(BURST_JOB_MS / msPerIteration));
}

/** Runs bursts until `expected` threads have been seen running (or MAX_BURSTS), and returns them. */
async function findPoolThreads(expected: number, burst: () => Promise<void>, mustBeNew: boolean, exclude: ReadonlySet<number>): Promise<number[]> {
  const start = threadCpuNs();
  const found = new Set<number>();
  for (let attempt = 0; attempt < MAX_BURSTS && found.size < expected; attempt++) {
    const before = threadCpuNs();
    await burst();
    for (const tid of threadsThatRan(mustBeNew ? start : before, threadCpuNs(), mustBeNew)) if (!exclude.has(tid)) found.add(tid);
  }
  return [...found];
}

function lower(threads: readonly number[], nice: number, problems: string[]): void {
  for (const tid of threads) {
    try {
      setPriority(tid, nice);
    } catch (error) {
      problems.push(`thread ${tid}: ${(error as Error).message}`);
    }
  }
}

/**
 * Finds isolated-vm's and libuv's pool threads and lowers them to `nice`.
 * Call once per process, before the first asynchronous isolate entry.
 */
export async function lowerTenantThreadPriority(nice: number = TENANT_THREAD_NICE): Promise<TenantThreadPriorityOutcome> {
  if (process.platform !== "linux") return { nice, isolatePoolThreads: [], libuvPoolThreads: [], problems: [`not Linux (${process.platform})`] };
  const problems: string[] = [];
  // libuv first: its burst runs no JavaScript, so V8's workers stay idle, and
  // its threads may be older than this call (any earlier fs or crypto call starts them all).
  const libuvSize = Math.min(1024, Math.max(1, Number(process.env.UV_THREADPOOL_SIZE) || 4));
  const iterations = pbkdf2IterationsForBurst();
  const libuvPoolThreads = await findPoolThreads(libuvSize, () => libuvPoolBurst(libuvSize, iterations), false, new Set());
  if (libuvPoolThreads.length < libuvSize) problems.push(`libuv pool: found ${libuvPoolThreads.length} of ${libuvSize} threads`);
  const isolatePoolSize = cpus().length + 1;
  const isolatePoolThreads = await findPoolThreads(isolatePoolSize, () => isolatePoolBurst(isolatePoolSize), true, new Set(libuvPoolThreads));
  if (isolatePoolThreads.length < isolatePoolSize) {
    problems.push(`isolated-vm pool: found ${isolatePoolThreads.length} new of ${isolatePoolSize} threads (was it used before this call?)`);
  }
  lower(libuvPoolThreads, nice, problems);
  lower(isolatePoolThreads, nice, problems);
  return { nice, isolatePoolThreads, libuvPoolThreads, problems };
}
