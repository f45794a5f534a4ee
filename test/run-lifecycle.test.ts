import test from "ava";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { childPids } from "./helpers/processes.js";
import { withApp } from "./helpers/with-app.js";

const slowApp = `
export default {
  async fetch(request: Request) {
    if (new URL(request.url).pathname === "/slow") {
      console.log("slow request started");
      await new Promise((resolve) => setTimeout(resolve, 400));
      return new Response("finished slowly");
    }
    return new Response("v1");
  },
};
`;

test("shutdown: SIGTERM lets an in-flight request finish, then exits 0", async (t) => {
  await withApp(t, slowApp, [], async (server) => {
    const inFlight = fetch(`${server.url}/slow`);
    // Signal once the request is inside the isolate.
    await server.waitForOutput(/slow request started/);
    const exit = server.stop();
    const response = await inFlight;
    t.is(await response.text(), "finished slowly");
    t.deepEqual(await exit, { code: 0, signal: null });
  });
});

test("shutdown: SIGINT exits 0 as well", async (t) => {
  await withApp(t, slowApp, [], async (server) => {
    server.child.kill("SIGINT");
    const status = await new Promise<{ code: number | null }>((resolve) => server.child.once("exit", (code) => resolve({ code })));
    t.is(status.code, 0);
  });
});

test("watch: an edit swaps the isolate, and a request in flight finishes on the old version", async (t) => {
  await withApp(t, slowApp, ["--watch"], async (server, dir) => {
    t.is(await (await fetch(server.url)).text(), "v1");
    const inFlight = fetch(`${server.url}/slow`);
    await server.waitForOutput(/slow request started/);
    writeFileSync(join(dir, "app.ts"), slowApp.replace('"v1"', '"v2"').replace("finished slowly", "new version"));
    await server.waitForOutput(/reloaded/);
    t.is(await (await inFlight).text(), "finished slowly");
    t.is(await (await fetch(server.url)).text(), "v2");
  });
});

test("watch: a broken edit keeps the previous version serving", async (t) => {
  await withApp(t, slowApp, ["--watch"], async (server, dir) => {
    writeFileSync(join(dir, "app.ts"), "export default { fetch( {");
    await server.waitForOutput(/reload failed, still serving the previous version/);
    t.is(await (await fetch(server.url)).text(), "v1");
  });
});

const crashApp = `
export default {
  fetch(request: Request) {
    if (new URL(request.url).pathname === "/explode") {
      // Growing a Map without bound is a fatal V8 error, not a catchable
      // memory-limit breach: it takes the whole process down.
      const m = new Map();
      for (let i = 0; ; i++) m.set(i, i);
    }
    return new Response("up");
  },
};
`;

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

/** Resolve once `pid` is no longer a child of `parentPid`. */
async function waitUntilGone(parentPid: number, pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (childPids(parentPid).includes(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test("crash: a fatal V8 out-of-memory on the thread pool answers 503 memory_limit and the standby serves within a second", async (t) => {
  // --inline-ms 0: every entry runs on isolated-vm's thread pool, so the
  // front end's own thread survives to answer and hand over.
  await withApp(t, crashApp, ["--cpu-ms", "20000", "--inline-ms", "0"], async (server) => {
    const supervisorPid = server.child.pid as number;
    await server.waitForOutput(/standby front end \d+ ready/);
    const exploded = await fetch(`${server.url}/explode`);
    t.is(exploded.status, 503);
    t.is(((await exploded.json()) as { error: string }).error, "memory_limit");
    const downMs = await msUntilServing(server.url, 5000);
    t.log(`served again after ${downMs} ms`);
    t.true(downMs < 1000, `took ${downMs} ms`);
    // Growing a Map past the heap limit ends either as an ordinary memory
    // breach (the isolate is recycled in place) or, depending on where V8
    // is when it runs out, as a catastrophic error that costs the process.
    if (!/catastrophic isolate failure/.test(server.output())) {
      t.regex(server.output(), /memory limit exceeded; isolate recycled/);
      return;
    }
    await server.waitForOutput(/lost an isolate and must be replaced[\s\S]*standby front end \d+ takes over/);
    // The failed front end drains and aborts itself once the standby listens.
    await waitUntilGone(supervisorPid, server.frontEndPid);
    t.false(childPids(supervisorPid).includes(server.frontEndPid));
    // A new standby is started in its place.
    const deadline = Date.now() + 10_000;
    while (childPids(supervisorPid).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    t.is(childPids(supervisorPid).length, 2);
  });
});

test("crash: a fatal V8 out-of-memory in an inline entry is caught by the hang watchdog and the standby takes over", async (t) => {
  // --inline-ms 50: warm-up entries count as fast even on a loaded machine,
  // so /explode is sure to run inline.
  await withApp(t, crashApp, ["--cpu-ms", "2000", "--inline-ms", "50", "--hang-kill-ms", "2000"], async (server) => {
    await server.waitForOutput(/standby front end \d+ ready/);
    // Fast requests first, so the isolate runs its entries inline.
    for (let i = 0; i < 5; i++) t.is(await (await fetch(server.url)).text(), "up");
    const outcome = await fetch(`${server.url}/explode`).then(
      async (response) => `${response.status} ${((await response.json()) as { error: string }).error}`,
      () => "connection cut",
    );
    if (outcome === "connection cut") {
      // Catastrophic: the front end's thread is lost inside the isolate, no
      // answer can be written; the standby takes the port, then the watchdog kills the process.
      await server.waitForOutput(/stalled in an inline isolate entry[\s\S]*standby front end \d+ takes over/);
      await server.waitForOutput(/catastrophic isolate failure\); killing it/);
    } else {
      // V8 reported an ordinary memory breach this time: answered in place.
      t.is(outcome, "503 memory_limit");
    }
    t.true(Number.isFinite(await msUntilServing(server.url, 5000)));
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
    const deadline = Date.now() + 10_000;
    while (childPids(supervisorPid).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    for (const pid of childPids(supervisorPid)) process.kill(pid, "SIGKILL");
    const downMs = await msUntilServing(server.url, 10_000);
    t.true(Number.isFinite(downMs), "never answered again");
    t.log(`served again after ${downMs} ms`);
  });
});
