/**
 * The threads that run tenant work, at a lower OS priority (nice) than the
 * front end's event loop, which answers every tenant.
 *
 * Why: a tenant's CPU burst runs on isolated-vm's pool (an isolate spinning
 * to its CPU limit, a boot) or on the digest thread. At equal priority the
 * kernel shares a core fairly between that burst and the event loop, so
 * another tenant's request that arrives while the burst holds the core
 * waits out its slice.
 * At nice +10 (weight 110 against the event loop's 1,024) the event loop
 * runs when it wakes, and the tenant threads keep what it leaves, which on
 * a busy core is most of it: a tenant still gets its CPU budget, later.
 * Measured (bench/RESULTS.md; `edgehost serve`, a fast tenant paced at
 * 1,000 req/s beside a neighbour spinning 40 of its 50 ms on every request,
 * both cores, two runs each): the fast tenant's p99 went from 2.14 / 2.13 ms
 * (1.42x / 1.49x its p99 alone) to 1.27 / 1.40 ms (0.87x / 0.88x); in the
 * noisy-neighbour bench, one core, cpu-spin, from 4.97x / 4.90x to
 * 3.71x / 3.92x. Inline entries run on the event loop, so a well-behaved hot
 * app is not slowed; the 1,000-tenant Zipf throughput did not change.
 *
 * Why it is off by default (frontEnd.tenantThreadNice 0): isolated-vm's
 * `timeout`, which cuts an entry at its CPU budget, counts wall time. A
 * nice-10 thread on a core that nice-0 threads keep busy (this process's
 * event loop at saturation, or any other process on the machine) gets
 * about a tenth of it, so a pooled entry well within its CPU budget can
 * reach its timeout and be cut as a CPU breach. Measured: requests that
 * spend 14 of their 50 ms of CPU, both cores kept busy by two other
 * processes: 15 of 15 answered at nice 0, 15 of 15 cut as cpu_limit at
 * nice 10. (At nice 0 the same happens once the other processes take more
 * than about two thirds of the cores.) isolated-vm 5.0.4 has no CPU clock
 * to enforce by instead: its `cpuTime` counts wall time while the isolate
 * is entered too (bench/probes/ivm-cpu-time.cjs). It is for a machine the
 * front end has to itself, below saturation.
 *
 * What stays at nice 0: the event loop, V8's platform workers (garbage
 * collection for the host heap and every isolate) and the hang watchdog.
 * isolated-vm's timer threads come and go (one is started whenever a
 * timeout is due before every running timer thread's next one); one that a
 * pool thread starts inherits its nice value. That is why the value is +10
 * and not lower or SCHED_IDLE: a nice-10 thread still gets about a tenth of
 * a core that nice-0 threads keep busy, so it runs within milliseconds of
 * waking, and the backlog that crashes isolated-vm 5.0.4's timer thread
 * (laverdet/isolated-vm#572: about 200,000 timers due at once,
 * bench/probes/ivm-timer-backlog.cjs) would need seconds of starvation at
 * tens of thousands of entries a second. Raising the event loop instead
 * would put every timer thread it starts below it, and needs privileges.
 *
 * How the threads are found: Node names none of them ("node") and
 * isolated-vm gives out no thread ids, so its pool is made to run a burst of
 * short entries, one per pool thread (each isolate entered while the others
 * spin needs a thread of its own), and the new threads whose CPU time grew
 * are the pool's. They must be new: isolated-vm starts its pool threads on
 * demand, and that keeps V8's platform workers (which may compile the
 * burst's loop) out; so this runs before the process's first asynchronous
 * isolate entry and before it starts any thread of its own (front-end-main.ts
 * calls it first). The digest thread lowers itself when it starts
 * (digest-jobs.ts). libuv's pool (zlib decoding of fetched bodies, file
 * reads) is left alone: its threads cannot be told apart reliably (a job
 * burst lands two jobs on one thread and none on another, and the pool is
 * already running by the time an ES module's code runs), and lowering a V8
 * platform worker by mistake would slow every isolate's garbage collection.
 * A lowered priority cannot be raised again without privileges. Linux
 * only; elsewhere, or if the pool cannot be found, nothing changes (or only
 * what was found) and the outcome says why.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpus, setPriority } from "node:os";
import ivm from "isolated-vm";
import { setDigestThreadNice } from "./digest-jobs.js";

/** The nice value the option was measured at, and the one to use (0 is the OS default, 19 the lowest). */
export const TENANT_THREAD_NICE = 10;

/** CPU time each burst job asks for: a few ms, paid once at start-up. */
const BURST_JOB_MS = 4;

/** A thread counts as having run a job when it gained at least this much CPU. */
const RAN_JOB_MS = 1;

/** Bursts tried per pool before settling for the threads found. */
const MAX_BURSTS = 3;

/** Which threads were lowered, per pool, or why not. */
export interface TenantThreadPriorityOutcome {
  readonly nice: number;
  readonly isolatePoolThreads: readonly number[];
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

/** Threads absent from `before` (so not the main one) that have run at least RAN_JOB_MS of CPU by `after`. */
function newThreadsThatRan(before: Map<number, number>, after: Map<number, number>): number[] {
  return [...after].filter(([tid, ns]) => !before.has(tid) && ns >= RAN_JOB_MS * 1e6).map(([tid]) => tid);
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

/** Runs bursts until all `size` pool threads have been seen running (or MAX_BURSTS), and returns the ones seen. */
async function findIsolatePoolThreads(size: number): Promise<number[]> {
  const before = threadCpuNs();
  let found: number[] = [];
  for (let attempt = 0; attempt < MAX_BURSTS && found.length < size; attempt++) {
    await isolatePoolBurst(size);
    found = newThreadsThatRan(before, threadCpuNs());
  }
  return found;
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
 * Finds isolated-vm's pool threads and lowers them (and the digest thread, when it starts) to `nice`.
 * Call once per process, before the first asynchronous isolate entry.
 */
export async function lowerTenantThreadPriority(nice: number = TENANT_THREAD_NICE): Promise<TenantThreadPriorityOutcome> {
  if (process.platform !== "linux") return { nice, isolatePoolThreads: [], problems: [`not Linux (${process.platform})`] };
  const problems: string[] = [];
  const isolatePoolSize = cpus().length + 1;
  const isolatePoolThreads = await findIsolatePoolThreads(isolatePoolSize);
  if (isolatePoolThreads.length < isolatePoolSize) {
    problems.push(`isolated-vm pool: found ${isolatePoolThreads.length} new of ${isolatePoolSize} threads (was it used before this call?)`);
  }
  lower(isolatePoolThreads, nice, problems);
  setDigestThreadNice(nice);
  return { nice, isolatePoolThreads, problems };
}
