import test from "ava";
import { HostMemoryBudget } from "../sandbox/host-memory.js";

test("host memory: reservations are refused past the limit and nothing is counted for a refusal", (t) => {
  const budget = new HostMemoryBudget(100);
  t.true(budget.tryReserve(60));
  t.false(budget.tryReserve(41));
  t.is(budget.usedBytes, 60);
  t.true(budget.tryReserve(40));
  t.is(budget.usedBytes, 100);
  budget.release(70);
  t.is(budget.usedBytes, 30);
  budget.release(1000);
  t.is(budget.usedBytes, 0);
});

test("host memory: sizes that are not non-negative integers are refused", (t) => {
  const budget = new HostMemoryBudget(100);
  for (const bytes of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) t.false(budget.tryReserve(bytes), String(bytes));
  t.is(budget.usedBytes, 0);
  t.throws(() => new HostMemoryBudget(-1), { instanceOf: RangeError });
});

test("host memory: a reservation grows, shrinks and is released once, whole", (t) => {
  const budget = new HostMemoryBudget(100);
  const a = budget.open();
  const b = budget.open();
  t.true(a.grow(50));
  t.true(b.grow(30));
  t.false(a.grow(21));
  a.shrink(10);
  t.is(a.heldBytes, 40);
  t.is(budget.usedBytes, 70);
  a.releaseAll();
  a.releaseAll();
  t.is(budget.usedBytes, 30);
  t.false(a.grow(1));
  b.shrink(1000);
  t.is(budget.usedBytes, 0);
});

test("host memory: peakBytes is the most reserved at once, and stays after releases", (t) => {
  const budget = new HostMemoryBudget(100);
  t.is(budget.peakBytes, 0);
  t.true(budget.tryReserve(30));
  t.true(budget.tryReserve(50));
  budget.release(60);
  t.true(budget.tryReserve(10));
  t.false(budget.tryReserve(90));
  t.is(budget.usedBytes, 30);
  t.is(budget.peakBytes, 80);
});
