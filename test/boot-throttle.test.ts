import test from "ava";
import { BootThrottle } from "../sandbox/boot-throttle.js";
import { SandboxError } from "../sandbox/errors.js";

test("boot throttle: the first recycles in a window are free, then starts wait for a doubling delay", (t) => {
  const throttle = new BootThrottle();
  for (let i = 0; i < 3; i++) {
    throttle.recycled(1000 + i);
    t.is(throttle.refusal(1000 + i), undefined);
  }
  throttle.recycled(1003);
  const first = throttle.refusal(1003);
  t.is(first?.code, "EDGE_SANDBOX_RESTART_BACKOFF");
  t.is(first?.details.retryAfterMs, 100);
  t.is(throttle.refusal(1104), undefined);
  throttle.recycled(1104);
  t.is(throttle.refusal(1104)?.details.retryAfterMs, 200);
});

test("boot throttle: a failed boot is answered with its own error until the delay passes", (t) => {
  const throttle = new BootThrottle();
  const failure = new SandboxError("EDGE_SANDBOX_STARTUP_FAILED", "app threw during top-level evaluation: Error: x");
  throttle.bootFailed(failure, 0);
  t.is(throttle.refusal(50)?.code, "EDGE_SANDBOX_STARTUP_FAILED");
  t.is(throttle.refusal(50)?.details.retryAfterMs, 50);
  t.is(throttle.refusal(100), undefined);
  throttle.bootFailed(failure, 100);
  t.is(throttle.refusal(100)?.details.retryAfterMs, 200);
  throttle.bootSucceeded();
  throttle.recycled(400);
  t.is(throttle.refusal(400), undefined);
});

test("boot throttle: past the free recycles, CPU held past every budget buys four times as long without a start, capped at 30 s", (t) => {
  const throttle = new BootThrottle();
  // One slow disposal of an app in good standing costs nothing.
  throttle.recycled(0);
  throttle.threadHeld(1000, 0);
  t.is(throttle.refusal(0), undefined);
  throttle.recycled(1);
  throttle.recycled(2);
  throttle.threadHeld(1000, 2);
  t.is(throttle.refusal(2)?.details.retryAfterMs, 4000);
  t.is(throttle.refusal(4002), undefined);
  throttle.threadHeld(60_000, 5000);
  t.is(throttle.refusal(5000)?.details.retryAfterMs, 30_000);
});
