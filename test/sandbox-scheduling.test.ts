import test from "ava";
import { AppIsolate, DEFAULT_SANDBOX_LIMITS, EntryScheduler, type SandboxRequest } from "../sandbox/index.js";

/** The app bundle format the loader produces: an IIFE assigning __edgehost_app. */
function bundle(source: string): string {
  return `var __edgehost_app = (() => { ${source} })();`;
}

const spinner = bundle(`
  return { default: { fetch() { const end = Date.now() + 20; while (Date.now() < end) {} return new Response("spun"); } } };
`);
const quick = bundle(`return { default: { fetch() { return new Response("quick"); } } };`);
const slowStart = bundle(`
  const end = Date.now() + 150; while (Date.now() < end) {}
  return { default: { fetch() { return new Response("booted"); } } };
`);

function create(name: string, code: string, scheduler: EntryScheduler, inlineEntryThresholdMs = 0): Promise<AppIsolate> {
  return AppIsolate.create({
    appName: name,
    code,
    codeHash: `test-${name}`,
    bundleFilename: `${name}.js`,
    env: {},
    limits: { ...DEFAULT_SANDBOX_LIMITS, cpuLimitMs: 1000 },
    allowPrivateFetch: false,
    scheduler,
    log: () => undefined,
    onCatastrophicError: () => undefined,
    inlineEntryThresholdMs,
  });
}

let nextId = 0;
function request(): SandboxRequest {
  return { id: `r${++nextId}`, method: "GET", url: "http://test.invalid/", headers: [], body: null };
}

test("scheduler: a tenant that is always busy shares its slot; another isolate's request runs within a few of its entries", async (t) => {
  const scheduler = new EntryScheduler(1);
  const attacker = await create("attacker", spinner, scheduler);
  const victim = await create("victim", quick, scheduler);
  try {
    let attackerDone = 0;
    let stop = false;
    // Keep the attacker's queue full: four requests in flight at all times.
    const keepBusy = async (): Promise<void> => {
      while (!stop) {
        await attacker.fetch(request());
        attackerDone++;
      }
    };
    const loops = [keepBusy(), keepBusy(), keepBusy(), keepBusy()];
    while (attackerDone < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = attackerDone;
    const response = await victim.fetch(request());
    const during = attackerDone - before;
    stop = true;
    await Promise.all(loops);
    t.is(response.body, "quick");
    t.log(`attacker entries completed while the victim waited: ${during}`);
    // The attacker had four entries in flight; the victim waits at most for those.
    t.true(during <= 5, `victim waited for ${during} attacker entries`);
  } finally {
    attacker.dispose();
    victim.dispose();
  }
});

test("scheduler: a boot takes a slot like any entry", async (t) => {
  const scheduler = new EntryScheduler(1);
  const booting = create("slow-start", slowStart, scheduler);
  // The boot's top-level code spins for 150 ms: meanwhile its slot is taken.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(scheduler.running, 1);
  const app = await booting;
  try {
    t.is(scheduler.running, 0);
    t.true(app.stats().bootCpuMs >= 100, `boot CPU ${app.stats().bootCpuMs} ms`);
    t.is((await app.fetch(request())).body, "booted");
  } finally {
    app.dispose();
  }
});

test("scheduler: an isolate runs its entries on the pool when inline entries are off or its entries are slow, not while unmeasured or fast", async (t) => {
  const scheduler = new EntryScheduler(1);
  const pooled = await create("pooled", quick, scheduler, 0);
  // Generous thresholds, so that a loaded machine cannot make "quick" look slow or "spinner" fast.
  const fast = await create("fast", quick, scheduler, 50);
  const slow = await create("slow", spinner, scheduler, 5);
  try {
    t.true(pooled.entriesRunOnPool);
    t.false(fast.entriesRunOnPool, "no entry measured yet");
    for (let i = 0; i < 3; i++) {
      t.is((await pooled.fetch(request())).status, 200);
      t.is((await fast.fetch(request())).status, 200);
      t.is((await slow.fetch(request())).status, 200);
    }
    t.true(pooled.entriesRunOnPool);
    t.false(fast.entriesRunOnPool);
    t.true(slow.entriesRunOnPool);
  } finally {
    pooled.dispose();
    fast.dispose();
    slow.dispose();
  }
});

const sorter = bundle(`
  const data = new Float64Array(6e6);
  for (let i = 0; i < data.length; i++) data[i] = Math.random();
  return { default: { fetch() { data.sort(); return new Response("sorted"); } } };
`);

test("scheduler: an entry that outlives its disposed isolate (an uninterruptible sort) counts against its app's cap until its thread is done; other apps still get the slot", async (t) => {
  // One slot in all: the stray thread must not keep it from everyone else.
  const scheduler = new EntryScheduler(1);
  t.is(scheduler.maxPerKey, 1);
  let heldAtRelease: number | undefined;
  let heldMs: number | undefined;
  const attacker = await AppIsolate.create({
    appName: "sorter",
    code: sorter,
    codeHash: "test-sorter",
    bundleFilename: "sorter.js",
    env: {},
    limits: { ...DEFAULT_SANDBOX_LIMITS, cpuLimitMs: 20, startupLimitMs: 5000 },
    allowPrivateFetch: false,
    scheduler,
    log: () => undefined,
    onCatastrophicError: () => undefined,
    onThreadHeldAfterDispose: (ms) => {
      heldMs = ms;
      heldAtRelease = scheduler.heldBy("sorter");
    },
    inlineEntryThresholdMs: 0,
  });
  const victim = await create("victim", quick, scheduler);
  try {
    const failure = await attacker.fetch(request()).then(
      () => undefined,
      (error: unknown) => error,
    );
    t.truthy(failure, "the sort's request fails at its CPU limit");
    t.true(attacker.isDisposed);
    t.is(heldMs, undefined, "the sort was still running when the request failed");
    t.is(scheduler.heldBy("sorter"), 1, "the sorting thread still counts against its app");
    t.is(scheduler.running, 0, "but it holds no slot");
    t.is((await victim.fetch(request())).body, "quick");
    t.is(scheduler.heldBy("sorter"), 1, "the victim was answered while the sort still ran");
    // The app's next boot waits for its stray thread.
    const next = create("sorter", quick, scheduler);
    await new Promise((resolve) => setImmediate(resolve));
    t.is(scheduler.queued, 1, "the app's next boot waits");
    while (heldMs === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
    t.log(`the sort ran on ${heldMs.toFixed(0)} ms after its isolate was disposed`);
    t.is(heldAtRelease, 1, "once the thread is done, the hold passed to the app's waiting boot");
    const nextApp = await next;
    nextApp.dispose();
    t.is(scheduler.running, 0);
  } finally {
    attacker.dispose();
    victim.dispose();
  }
});
