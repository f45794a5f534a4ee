/**
 * Version affinity under a traffic split (runtime/front-end/version-affinity.ts):
 * the same key lands on the same side, the share follows the percentage,
 * widening only adds keys to the canary, a new canary deals afresh. The
 * end-to-end check through a running serve is in serve-deploy.test.ts.
 */
import test from "ava";
import { isCanaryKey, versionKeyOf } from "../runtime/front-end/version-affinity.js";

const KEYS = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

function canaryKeys(versionId: string, percent: number): Set<string> {
  return new Set(KEYS.filter((key) => isCanaryKey(key, versionId, percent)));
}

test("the same key always gets the same answer", (t) => {
  for (const key of KEYS.slice(0, 100)) t.is(isCanaryKey(key, "v2", 37), isCanaryKey(key, "v2", 37));
});

test("the share of keys on the canary follows the percentage", (t) => {
  for (const percent of [1, 10, 50, 90]) {
    const share = (canaryKeys("v2", percent).size / KEYS.length) * 100;
    // 2000 keys: the binomial's 5 standard deviations at 50% are 5.6 points.
    t.true(Math.abs(share - percent) < 6, `${share}% of keys at ${percent}%`);
  }
  t.is(canaryKeys("v2", 0).size, 0);
  t.is(canaryKeys("v2", 100).size, KEYS.length);
});

test("widening a split only moves keys onto the canary", (t) => {
  const narrow = canaryKeys("v2", 10);
  const wide = canaryKeys("v2", 40);
  for (const key of narrow) t.true(wide.has(key), key);
  t.true(wide.size > narrow.size);
});

test("a new canary version deals the keys afresh", (t) => {
  const first = canaryKeys("v2", 50);
  const second = canaryKeys("v3", 50);
  const same = KEYS.filter((key) => first.has(key) === second.has(key)).length;
  // Independent deals agree on about half the keys; one deal would agree on all.
  t.true(same > KEYS.length * 0.4 && same < KEYS.length * 0.6, `${same} of ${KEYS.length} keys on the same side`);
});

test("the key is the first non-empty value of the edgehost-version-key header", (t) => {
  t.is(versionKeyOf(["host", "a.test", "edgehost-version-key", "alice"]), "alice");
  t.is(versionKeyOf(["edgehost-version-key", "", "edgehost-version-key", "bob"]), "bob");
  t.is(versionKeyOf(["host", "a.test"]), undefined);
  t.is(versionKeyOf(["x-version-key", "alice"]), undefined);
});
