import test from "ava";
import { pickVersion } from "../runtime/versions/index.js";

const SPLIT = { versionId: "canary", percent: 10 };

test("pickVersion: no split, 0% and 100% are the active version, nobody and everybody", (t) => {
  t.is(pickVersion(null, "stable", "k"), "stable");
  t.is(pickVersion({ versionId: "canary", percent: 0 }, "stable", "k"), "stable");
  t.is(pickVersion({ versionId: "canary", percent: 100 }, "stable", "k"), "canary");
});

test("pickVersion: one key sticks to one version, and a key in the canary stays in as the percent grows", (t) => {
  for (let i = 0; i < 500; i += 1) {
    const key = `shop\u0000198.51.100.${i}`;
    const first = pickVersion(SPLIT, "stable", key);
    for (let j = 0; j < 3; j += 1) t.is(pickVersion(SPLIT, "stable", key), first);
    if (first === "canary") t.is(pickVersion({ versionId: "canary", percent: 50 }, "stable", key), "canary");
  }
});

test("pickVersion: over many keys the canary's share matches the percent", (t) => {
  for (const percent of [1, 10, 50, 90]) {
    let canary = 0;
    const keys = 20000;
    for (let i = 0; i < keys; i += 1) if (pickVersion({ versionId: "c", percent }, "s", `req-${i}`) === "c") canary += 1;
    // 20,000 keys: the binomial standard deviation is at most 0.35 points; allow 1.5.
    t.true(Math.abs((100 * canary) / keys - percent) < 1.5, `${percent}%: ${(100 * canary) / keys}%`);
  }
});
