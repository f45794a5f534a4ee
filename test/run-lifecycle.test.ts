import test from "ava";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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
