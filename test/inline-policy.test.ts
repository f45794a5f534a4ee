import test from "ava";
import { InlinePolicy, LOCKDOWN_STALLS, LOCKDOWN_WINDOW_MS } from "../sandbox/inline-policy.js";

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

test("an app that stalled once never runs inline again; others still do", (t) => {
  const reported: string[] = [];
  const policy = new InlinePolicy([], (app) => reported.push(app), { now: clock().now });
  policy.demote("attacker", 900);
  policy.demote("attacker", 900);
  t.false(policy.isAllowed("attacker"));
  t.true(policy.isDemoted("attacker"));
  t.true(policy.isAllowed("victim"));
  t.deepEqual(reported, ["attacker"], "reported once");
});

test("stalls by several fresh apps close inline entries to every app for the window, then reopen them", (t) => {
  const time = clock();
  const policy = new InlinePolicy([], undefined, { now: time.now });
  for (let i = 0; i < LOCKDOWN_STALLS; i++) {
    t.false(policy.isLockedDown, `not locked down after ${i} stalls`);
    policy.demote(`fresh-${i}`, 900);
    time.advance(1000);
  }
  t.true(policy.isLockedDown);
  t.false(policy.isAllowed("victim"), "a well-behaved app loses the inline path during the lockdown");
  t.false(policy.isAllowed("never-seen"), "so does a new app: no more stalls");
  time.advance(LOCKDOWN_WINDOW_MS);
  t.false(policy.isLockedDown);
  t.true(policy.isAllowed("victim"));
  t.false(policy.isAllowed("fresh-0"), "the stalled apps stay demoted");
});

test("stalls adopted from another front end count, and a new front end keeps a lockdown from recent stall times", (t) => {
  const time = clock();
  const standby = new InlinePolicy([], undefined, { now: time.now });
  for (let i = 0; i < LOCKDOWN_STALLS; i++) standby.adopt(`fresh-${i}`);
  t.true(standby.isLockedDown);
  const recentStallsAt = Array.from({ length: LOCKDOWN_STALLS }, () => time.now() - 1000);
  const next = new InlinePolicy(["fresh-0"], undefined, { now: time.now, recentStallsAt });
  t.true(next.isLockedDown);
  const stale = new InlinePolicy(["fresh-0"], undefined, { now: time.now, recentStallsAt: recentStallsAt.map((at) => at - LOCKDOWN_WINDOW_MS) });
  t.false(stale.isLockedDown, "stalls older than the window do not lock a new front end down");
  t.false(stale.isAllowed("fresh-0"));
});
