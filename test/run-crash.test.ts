import test, { type ExecutionContext } from "ava";
import { startEdgehost, writeApp, type RunningEdgehost } from "./helpers/edgehost-process.js";
import { childPids } from "./helpers/processes.js";
import { getTracingServer } from "./helpers/socket-owner.js";
import { withApp } from "./helpers/with-app.js";

const crashApp = `
export default {
  async fetch(request: Request) {
    const path = new URL(request.url).pathname;
    if (path === "/explode") {
      // Growing a Map without bound exhausts the heap; V8 may end it as a
      // fatal out-of-memory error that takes the whole process down.
      const m = new Map();
      for (let i = 0; ; i++) m.set(i, i);
    }
    if (path === "/slow") {
      console.log("slow request started");
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      return new Response("finished slowly");
    }
    return new Response("up");
  },
};
`;

/**
 * Whether the heap running out ends as an ordinary breach or as V8's fatal
 * OOM is a race inside isolated-vm; this failpoint makes it the fatal one
 * every time (see sandbox/failpoints.ts), so the hand-over is exercised on
 * every run.
 */
const CATASTROPHIC_OOM = { ...process.env, EDGEHOST_FAILPOINTS: "oom-catastrophic" };

/** Like withApp, with the environment given. */
async function withCrashApp(t: ExecutionContext, args: readonly string[], body: (server: RunningEdgehost) => Promise<void>): Promise<void> {
  const app = writeApp({ "app.ts": crashApp });
  let server: RunningEdgehost | undefined;
  try {
    server = await startEdgehost(app.entry, args, app.dir, CATASTROPHIC_OOM);
    await body(server);
  } catch (error) {
    if (server) t.log(server.output());
    throw error;
  } finally {
    await server?.stop();
    app.cleanup();
  }
}

/** Poll until `url` answers 200 "up"; resolves with the milliseconds it took. */
async function msUntilServing(url: string, limitMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < limitMs) {
    const ok = await fetch(url).then(
      async (response) => response.status === 200 && (await response.text()) === "up",
      () => false, // refused or reset while the port changes hands: still down
    );
    if (ok) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Number.POSITIVE_INFINITY;
}

/** Resolve once `pid` is no longer a child of `parentPid` (or after 10 s). */
async function waitUntilGone(parentPid: number, pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (childPids(parentPid).includes(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Resolve once `parentPid` has `count` children (or after 10 s). */
async function waitForChildren(parentPid: number, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (childPids(parentPid).length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
}

async function errorCode(response: Response): Promise<string> {
  return `${response.status} ${((await response.json()) as { error: string }).error}`;
}

test("crash: a catastrophic OOM on the thread pool answers 503 memory_limit to every request in the isolate, and a new front end serves", async (t) => {
  // --inline-ms 0: every entry runs on isolated-vm's thread pool, so the
  // front end's own thread survives to answer and hand over.
  await withCrashApp(t, ["--cpu-ms", "20000", "--inline-ms", "0"], async (server) => {
    const supervisorPid = server.child.pid as number;
    const failedPid = server.frontEndPid;
    const standbyReady = await server.waitForOutput(/standby front end (\d+) ready/);
    const standbyPid = Number(/standby front end (\d+) ready/.exec(standbyReady)?.[1]);
    // A request of the same isolate in flight when it fails: answered, not cut.
    const slow = fetch(`${server.url}/slow`);
    await server.waitForOutput(/slow request started/);
    t.is(await errorCode(await fetch(`${server.url}/explode`)), "503 memory_limit");
    t.is(await errorCode(await slow), "503 memory_limit");
    t.regex(server.output(), /catastrophic isolate failure: Catastrophic out-of-memory error/);
    await server.waitForOutput(new RegExp(`front end ${failedPid} lost an isolate and must be replaced[\\s\\S]*standby front end ${standbyPid} takes over`));
    // The failed front end drains and aborts itself once the standby listens.
    await waitUntilGone(supervisorPid, failedPid);
    t.false(childPids(supervisorPid).includes(failedPid));
    const next = await getTracingServer(server.url, childPids(supervisorPid));
    t.deepEqual(next, { status: 200, body: "up", serverPid: standbyPid });
    // A new standby is started in the promoted one's place.
    await waitForChildren(supervisorPid, 2);
    t.is(childPids(supervisorPid).length, 2);
  });
});

test("crash: a catastrophic OOM in an inline entry is caught by the hang watchdog, and the standby takes over", async (t) => {
  // --inline-ms 50: warm-up entries count as fast even on a loaded machine,
  // so /explode is sure to run inline. A 32 MB heap fills in a fraction of
  // the 3 s CPU budget even then, so memory, not CPU, ends the entry.
  await withCrashApp(t, ["--cpu-ms", "3000", "--memory-mb", "32", "--inline-ms", "50", "--hang-kill-ms", "2000"], async (server) => {
    const supervisorPid = server.child.pid as number;
    const failedPid = server.frontEndPid;
    const standbyReady = await server.waitForOutput(/standby front end (\d+) ready/);
    const standbyPid = Number(/standby front end (\d+) ready/.exec(standbyReady)?.[1]);
    // Fast requests first, so the isolate runs its entries inline.
    for (let i = 0; i < 5; i++) t.is(await (await fetch(server.url)).text(), "up");
    // The front end's only thread is lost inside the isolate: no answer can
    // be written. The watchdog thread reports the stall (the standby takes
    // the port at once), then ends the process when the entry never returns.
    const outcome = await fetch(`${server.url}/explode`).then(errorCode, () => "connection cut");
    t.is(outcome, "connection cut");
    await server.waitForOutput(
      new RegExp(
        `front end ${failedPid} stalled in app\\.ts's inline entry[\\s\\S]*standby front end ${standbyPid} takes over[\\s\\S]*catastrophic isolate failure\\); killing it`,
      ),
    );
    await waitUntilGone(supervisorPid, failedPid);
    t.true(Number.isFinite(await msUntilServing(server.url, 5000)));
    const next = await getTracingServer(server.url, childPids(supervisorPid));
    t.deepEqual(next, { status: 200, body: "up", serverPid: standbyPid });
  });
});

test("crash: a front end killed outright is replaced by the standby at once", async (t) => {
  await withApp(t, crashApp, [], async (server) => {
    const supervisorPid = server.child.pid as number;
    await server.waitForOutput(/standby front end \d+ ready/);
    process.kill(server.frontEndPid, "SIGKILL");
    await server.waitForOutput(/front end \d+ died \(SIGKILL\)[\s\S]*standby front end \d+ takes over/);
    const downMs = await msUntilServing(server.url, 5000);
    t.true(downMs < 1000, `took ${downMs} ms`);
    await waitUntilGone(supervisorPid, server.frontEndPid);
    t.false(childPids(supervisorPid).includes(server.frontEndPid));
  });
});

test("crash: with the standby gone too, a new front end is started", async (t) => {
  await withApp(t, crashApp, [], async (server) => {
    const supervisorPid = server.child.pid as number;
    // Wait for the standby to exist, then kill both front ends.
    await waitForChildren(supervisorPid, 2);
    for (const pid of childPids(supervisorPid)) process.kill(pid, "SIGKILL");
    const downMs = await msUntilServing(server.url, 10_000);
    t.true(Number.isFinite(downMs), "never answered again");
    t.log(`served again after ${downMs} ms`);
  });
});
