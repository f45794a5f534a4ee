import test from "ava";
import { SandboxError } from "../sandbox/errors.js";
import { FETCH_BODY_WINDOW_BYTES, FetchedBody, WHOLE_FETCH_BODY_MAX_BYTES } from "../sandbox/fetched-body.js";
import { HostMemoryBudget } from "../sandbox/host-memory.js";

const KB = 1024;

/** An upstream of `count` chunks of `size` bytes (or endless), produced only when pulled; counts what was produced and whether it was cancelled. */
function upstream(size: number, count = Number.POSITIVE_INFINITY): { stream: ReadableStream<Uint8Array>; produced(): number; cancelled(): boolean } {
  let produced = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (produced >= count * size) {
          controller.close();
          return;
        }
        produced += size;
        controller.enqueue(new Uint8Array(size).fill(produced / size));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, produced: () => produced, cancelled: () => cancelled };
}

function body(source: ReadableStream<Uint8Array>, budget: HostMemoryBudget, limitBytes = Number.MAX_SAFE_INTEGER): FetchedBody {
  return new FetchedBody({
    source,
    reservation: budget.open(),
    limitBytes,
    overBudget: () => new SandboxError("EDGE_SANDBOX_FETCH_FAILED", "over budget"),
    translate: () => new SandboxError("EDGE_SANDBOX_FETCH_FAILED", "upstream failed"),
  });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("fetched body: a small body that is already there is taken whole, its bytes still reserved", async (t) => {
  const budget = new HostMemoryBudget(10 * 1024 * KB);
  const source = upstream(10 * KB, 3);
  const whole = await body(source.stream, budget).takeWhole();
  t.is(whole?.byteLength, 30 * KB);
  t.deepEqual([...new Uint8Array(whole as ArrayBuffer).subarray(10 * KB - 1, 10 * KB + 1)], [1, 2]);
  t.is(budget.usedBytes, 30 * KB);
});

test("fetched body: a larger body streams; the host reads at most a window ahead, and only as the isolate takes chunks", async (t) => {
  const budget = new HostMemoryBudget(100 * 1024 * KB);
  const source = upstream(16 * KB);
  const fetched = body(source.stream, budget);
  t.is(await fetched.takeWhole(), undefined);
  // Before the first pull: only what the fast path needed.
  t.true(source.produced() <= WHOLE_FETCH_BODY_MAX_BYTES + 16 * KB);
  const first = await fetched.pull();
  t.true((first.bytes?.byteLength ?? 0) > WHOLE_FETCH_BODY_MAX_BYTES, "the buffered chunks go over together");
  t.false(first.done);
  for (let i = 0; i < 10; i++) await turn();
  // Not released yet: the window counts it, so read-ahead stops at the window.
  t.true(fetched.heldBytes <= FETCH_BODY_WINDOW_BYTES + 16 * KB, `held ${fetched.heldBytes}`);
  const producedBefore = source.produced();
  for (let i = 0; i < 10; i++) await turn();
  t.is(source.produced(), producedBefore, "no reading past the window");
  t.is(budget.usedBytes, fetched.heldBytes);
  first.release();
  first.release();
  for (let i = 0; i < 10; i++) await turn();
  t.true(source.produced() > producedBefore, "reading resumes once the isolate has the chunk");
  t.true(budget.peakBytes <= 2 * (FETCH_BODY_WINDOW_BYTES + 16 * KB), `peak ${budget.peakBytes}`);
  fetched.cancel();
  t.true(source.cancelled());
  t.is(budget.usedBytes, 0);
  await t.throwsAsync(fetched.pull(), { instanceOf: SandboxError, message: "fetch body cancelled" });
});

test("fetched body: the last chunk says done, and a pull after it gets the end", async (t) => {
  const budget = new HostMemoryBudget(10 * 1024 * KB);
  const fetched = body(upstream(40 * KB, 3).stream, budget);
  t.is(await fetched.takeWhole(), undefined);
  let total = 0;
  for (;;) {
    const chunk = await fetched.pull();
    total += chunk.bytes?.byteLength ?? 0;
    chunk.release();
    if (chunk.done) break;
  }
  t.is(total, 120 * KB);
  t.deepEqual({ ...(await fetched.pull()), release: null }, { bytes: null, done: true, release: null });
  t.is(budget.usedBytes, 0);
});

test("fetched body: past the size limit or the app's host-memory account the upstream is cancelled and the pull rejects", async (t) => {
  const limited = upstream(16 * KB);
  const overLimit = body(limited.stream, new HostMemoryBudget(10 * 1024 * KB), 200 * KB);
  t.is(await overLimit.takeWhole(), undefined);
  const error = await t.throwsAsync(async () => {
    for (;;) (await overLimit.pull()).release();
  });
  t.is(error?.message, `fetch failed: response body exceeds ${200 * KB} bytes`);
  t.true(limited.cancelled());
  const small = new HostMemoryBudget(100 * KB);
  const squeezed = upstream(16 * KB);
  const overBudget = body(squeezed.stream, small);
  t.is(await overBudget.takeWhole(), undefined);
  await t.throwsAsync(async () => {
    for (;;) await overBudget.pull();
  }, { message: "over budget" });
  t.true(squeezed.cancelled());
  t.true(small.peakBytes <= 100 * KB);
});
