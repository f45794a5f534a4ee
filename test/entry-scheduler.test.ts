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
    }),
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
