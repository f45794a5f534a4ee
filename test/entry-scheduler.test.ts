import test from "ava";
import { EntryScheduler } from "../sandbox/entry-scheduler.js";

test("entry scheduler: never runs more than maxRunning tasks at once, in FIFO order", async (t) => {
  const scheduler = new EntryScheduler(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const releases: Array<() => void> = [];
  const tasks = Array.from({ length: 6 }, (_, i) =>
    scheduler.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
    }, `app-${i}`),
  );
  // Let the first two start, then release one at a time.
  while (order.length < 6) {
    await new Promise((resolve) => setImmediate(resolve));
    t.true(scheduler.running <= 2);
    releases.shift()?.();
  }
  releases.forEach((release) => release());
  await Promise.all(tasks);
  t.is(peak, 2);
  t.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  t.is(scheduler.running, 0);
  t.is(scheduler.queued, 0);
});

test("entry scheduler: a failing task releases its slot", async (t) => {
  const scheduler = new EntryScheduler(1);
  await t.throwsAsync(scheduler.run(() => Promise.reject(new Error("boom"))), { message: "boom" });
  t.is(await scheduler.run(() => Promise.resolve(7)), 7);
  t.is(scheduler.running, 0);
});

test("entry scheduler: one app holds at most maxRunning - 1 slots; its waiters let other apps' pass, in FIFO order otherwise", async (t) => {
  const scheduler = new EntryScheduler(3);
  t.is(scheduler.maxPerKey, 2);
  const a1 = await scheduler.acquire("a");
  const a2 = await scheduler.acquire("a");
  let a3: (() => void) | undefined;
  const waitingA = scheduler.acquire("a").then((release) => (a3 = release));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(a3, undefined, "a third slot for app a waits although one is free");
  t.is(scheduler.running, 2);
  const b1 = await scheduler.acquire("b");
  t.is(scheduler.running, 3, "another app takes the free slot");
  t.is(scheduler.heldBy("a"), 2);
  let c1: (() => void) | undefined;
  const waitingC = scheduler.acquire("c").then((release) => (c1 = release));
  b1();
  await new Promise((resolve) => setImmediate(resolve));
  t.not(c1, undefined, "b's slot cannot go to a (at its cap) and went to c");
  t.is(scheduler.heldBy("c"), 1);
  a1();
  await waitingA;
  await waitingC;
  t.is(scheduler.heldBy("a"), 2, "a's own release lets its waiter in");
  t.is(scheduler.running, 3);
  a2();
  a3?.();
  c1?.();
  t.is(scheduler.running, 0);
  t.is(scheduler.queued, 0);
  t.is(new EntryScheduler(1).maxPerKey, 1, "with one slot an app may still run");
});

test("entry scheduler: holdKey counts against a key's cap without a slot; its release lets the key's waiter into a free slot", async (t) => {
  const scheduler = new EntryScheduler(1);
  const hold = scheduler.holdKey("a");
  t.is(scheduler.heldBy("a"), 1);
  t.is(scheduler.running, 0);
  let a: (() => void) | undefined;
  const waitingA = scheduler.acquire("a").then((release) => (a = release));
  const b = await scheduler.acquire("b");
  t.is(scheduler.running, 1, "another key takes the free slot");
  await new Promise((resolve) => setImmediate(resolve));
  t.is(a, undefined, "a waits for its hold, not for the slot");
  hold();
  await new Promise((resolve) => setImmediate(resolve));
  t.is(a, undefined, "the slot is still b's");
  b();
  await waitingA;
  t.is(scheduler.heldBy("a"), 1);
  a?.();
  hold();
  t.is(scheduler.heldBy("a"), 0, "a second release of the hold changes nothing");
  const released = new EntryScheduler(2);
  const held = released.holdKey("x");
  let x: (() => void) | undefined;
  const waitingX = released.acquire("x").then((release) => (x = release));
  await new Promise((resolve) => setImmediate(resolve));
  t.is(x, undefined);
  held();
  await waitingX;
  t.is(released.running, 1, "the hold's release granted x a free slot");
  x?.();
  t.is(released.running, 0);
});
