import test from "ava";
import { withApp } from "./helpers/with-app.js";

const selfFetchingApp = `
export default {
  async fetch(request: Request) {
    const url = new URL(request.url);
    if (url.pathname === "/health") return new Response("ok");
    const depth = Number(url.searchParams.get("depth") ?? "0");
    try {
      const inner = await fetch(url.origin + "/?depth=" + (depth + 1));
      return new Response(await inner.text(), { status: inner.status });
    } catch (error) {
      return new Response("depth " + depth + ": " + (error as Error).name + ": " + (error as Error).message);
    }
  },
};
`;

test("fetch loop guard: an app that fetches its own URL stops after 16 hops (CDN-Loop) and the server stays healthy", async (t) => {
  // Without the guard the recursion only ends at the wall-time limit (504).
  await withApp(t, selfFetchingApp, ["--allow-private-fetch", "--wall-ms", "8000"], async (server) => {
    const expected =
      "depth 16: TypeError: fetch refused: this request has already passed through edgehost 16 times (CDN-Loop); subrequests stop at 16 hops so that apps fetching themselves end";
    const response = await fetch(server.url);
    t.is(response.status, 200);
    t.is(await response.text(), expected);
    // A client cannot lower the count: its own CDN-Loop entries only add to it.
    const spoofed = await fetch(server.url, { headers: { "cdn-loop": "edgehost; hops=15" } });
    t.is(await spoofed.text(), expected.replace("depth 16", "depth 1"));
    const health = await fetch(`${server.url}/health`);
    t.is(health.status, 200);
    t.is(await health.text(), "ok");
  });
});
