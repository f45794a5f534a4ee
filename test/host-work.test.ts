import test from "ava";
import { HostWorkBudget } from "../sandbox/host-work.js";

/** A budget on a clock the test moves. */
function budgetAt(options: { msPerSecond: number; burstMs: number }): { budget: HostWorkBudget; advance: (ms: number) => void } {
  let now = 0;
  return { budget: new HostWorkBudget({ ...options, now: () => now }), advance: (ms) => (now += ms) };
}

test("host work: a fresh budget lets the burst through at once, then asks for the wait until the rate has refilled what was overspent", (t) => {
  const { budget, advance } = budgetAt({ msPerSecond: 100, burstMs: 50 });
  budget.charge(40);
  t.is(budget.waitMs(), 0);
  budget.charge(30);
  // 20 ms overspent (and 1 ms past it) at 100 ms per second.
  t.is(budget.waitMs(), 210);
  advance(210);
  t.is(budget.waitMs(), 0);
  t.is(budget.chargedMs, 70);
});

test("host work: an idle budget refills only up to its burst", (t) => {
  const { budget, advance } = budgetAt({ msPerSecond: 100, burstMs: 50 });
  advance(60_000);
  budget.charge(50);
  t.true(budget.waitMs() > 0);
});

test("host work: charges that are not positive finite numbers are ignored", (t) => {
  const { budget } = budgetAt({ msPerSecond: 100, burstMs: 50 });
  for (const ms of [-5, 0, Number.NaN, Number.POSITIVE_INFINITY]) budget.charge(ms);
  t.is(budget.chargedMs, 0);
  t.is(budget.waitMs(), 0);
});
