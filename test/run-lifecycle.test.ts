import test from "ava";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { childPids } from "./helpers/processes.js";
import { withApp } from "./helpers/with-app.js";

const slowApp = `
export default {
  async fetch(request: Request) {
    if (new URL(request.url).pathname === "/slow") {
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
    await new Promise((resolve) => setTimeout(resolve, 150));
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
    await new Promise((resolve) => setTimeout(resolve, 100));
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

test("crash: a fatal V8 out-of-memory answers 503 memory_limit and a new front end serves within a second", async (t) => {
  await withApp(t, crashApp, ["--cpu-ms", "20000"], async (server) => {
    const supervisorPid = server.child.pid as number;
    const [before] = childPids(supervisorPid);
    const exploded = await fetch(`${server.url}/explode`);
    t.is(exploded.status, 503);
    t.is(((await exploded.json()) as { error: string }).error, "memory_limit");
    const start = Date.now();
    let answered = false;
    while (!answered && Date.now() - start < 5000) {
      try {
        const response = await fetch(server.url);
        answered = response.status === 200 && (await response.text()) === "up";
      } catch {
        // Connection refused while the port changes hands counts as down.
      }
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const downMs = Date.now() - start;
    t.true(answered);
    t.log(`served again after ${downMs} ms`);
    t.true(downMs < 1000, `took ${downMs} ms`);
    await server.waitForOutput(/handing over to a new front end/);
    // The failed front end drains and aborts itself once the new one listens.
    const deadline = Date.now() + 10_000;
    while (childPids(supervisorPid).includes(before as number) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = childPids(supervisorPid);
    t.false(after.includes(before as number));
    t.is(after.length, 1);
  });
});

test("crash: a front end killed outright is replaced and the server answers again", async (t) => {
  await withApp(t, crashApp, [], async (server) => {
    const supervisorPid = server.child.pid as number;
    const [frontEnd] = childPids(supervisorPid);
    process.kill(frontEnd as number, "SIGKILL");
    await server.waitForOutput(/died \(SIGKILL\); restarting/);
    const start = Date.now();
    let status = 0;
    while (status !== 200 && Date.now() - start < 5000) {
      status = await fetch(server.url).then(
        (response) => response.status,
        () => 0,
      );
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.is(status, 200);
    const [replacement] = childPids(supervisorPid);
    t.not(replacement, frontEnd);
  });
});
