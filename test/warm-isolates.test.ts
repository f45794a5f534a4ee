import test from "ava";
import { WarmIsolates, type WarmIsolateOwner } from "../sandbox/index.js";

/** An owner whose heap sample is `heapBytes`, counting samples and how many were on their way at once. */
class FakeOwner implements WarmIsolateOwner {
  inFlight = 0;
  samples = 0;
  evicted = false;
  constructor(
    readonly heapBytes: number,
    readonly probe: { current: number; max: number },
  ) {}
  async sampleHeapBytes(): Promise<number> {
    this.samples++;
    this.probe.current++;
    this.probe.max = Math.max(this.probe.max, this.probe.current);
    await new Promise((resolve) => setImmediate(resolve));
    this.probe.current--;
    return this.heapBytes;
  }
  evict(): void {
    this.evicted = true;
  }
}

function owners(count: number, heapBytes: number): { owners: FakeOwner[]; probe: { current: number; max: number } } {
  const probe = { current: 0, max: 0 };
  return { owners: Array.from({ length: count }, () => new FakeOwner(heapBytes, probe)), probe };
}

test("warm isolates: a sweep samples a few heaps at a time, not all at once (regression: 1,000 samples at once stalled the front end for tens of ms)", async (t) => {
  const warm = new WarmIsolates({ maxIsolates: 1000, maxMemoryBytes: Number.MAX_SAFE_INTEGER, idleTtlMs: Number.POSITIVE_INFINITY });
  const { owners: all, probe } = owners(200, 1000);
  all.forEach((owner, i) => warm.touch(`a${i}`, owner));
  await warm.sweep();
  t.true(all.every((owner) => owner.samples === 1));
  t.true(probe.max <= 4, `at most 4 samples on their way at once, saw ${probe.max}`);
  t.is(warm.heapBytes, 200 * 1000);
});

test("warm isolates: a sweep samples only the heaps touched since their last sample or with requests inside", async (t) => {
  const warm = new WarmIsolates({ maxIsolates: 10, maxMemoryBytes: Number.MAX_SAFE_INTEGER, idleTtlMs: Number.POSITIVE_INFINITY });
  const [quiet, touched, busy] = owners(3, 1000).owners as [FakeOwner, FakeOwner, FakeOwner];
  warm.touch("quiet", quiet);
  warm.touch("touched", touched);
  warm.touch("busy", busy);
  await warm.sweep();
  warm.touch("touched", touched);
  busy.inFlight = 1;
  await warm.sweep();
  t.deepEqual([quiet.samples, touched.samples, busy.samples], [1, 2, 2]);
  t.is(warm.heapBytes, 3000, "the quiet owner keeps its last sample");
});

test("warm isolates: over the memory bound, the least recently used owners are evicted, never the newest or a busy one", async (t) => {
  const warm = new WarmIsolates({ maxIsolates: 10, maxMemoryBytes: 2500, idleTtlMs: Number.POSITIVE_INFINITY });
  const [oldest, busy, middle, newest] = owners(4, 1000).owners as [FakeOwner, FakeOwner, FakeOwner, FakeOwner];
  busy.inFlight = 1;
  warm.touch("oldest", oldest);
  warm.touch("busy", busy);
  warm.touch("middle", middle);
  warm.touch("newest", newest);
  await warm.sweep();
  t.deepEqual([oldest.evicted, busy.evicted, middle.evicted, newest.evicted], [true, false, true, false]);
  t.is(warm.size, 2);
});
