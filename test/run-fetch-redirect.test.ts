import test from "ava";
import { createServer, type Server } from "node:http";
import { withApp } from "./helpers/with-app.js";

/** An upstream on 127.0.0.1: /start redirects (302) to /final, /loop redirects to itself. */
async function withRedirectingUpstream<T>(body: (url: string, paths: string[]) => Promise<T>): Promise<T> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? "");
    if (req.url === "/start") res.writeHead(302, { location: "/final", "x-hop": "start" }).end("moved");
    else if (req.url === "/loop") res.writeHead(307, { location: "/loop" }).end();
    else res.writeHead(200, { "content-type": "text/plain" }).end("final");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  try {
    return await body(`http://127.0.0.1:${port}`, paths);
  } finally {
    server.close();
  }
}

const redirectApp = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const url = new URL(request.url);
    const mode = (url.searchParams.get("mode") ?? undefined) as RequestRedirect | undefined;
    const path = url.searchParams.get("path") ?? "/start";
    try {
      const r = await fetch(env.UPSTREAM + path, mode === undefined ? {} : { redirect: mode });
      return Response.json({ status: r.status, location: r.headers.get("location"), redirected: r.redirected,
        path: new URL(r.url).pathname, body: await r.text() });
    } catch (error) {
      return Response.json({ error: (error as Error).name + ": " + (error as Error).message });
    }
  },
};
`;

async function ask(base: string, query: string): Promise<unknown> {
  const response = await fetch(`${base}?${query}`);
  return response.json();
}

test("fetch redirect: follow (the default), manual and error modes each do what the Fetch spec says", async (t) => {
  await withRedirectingUpstream(async (upstream, paths) => {
    await withApp(t, redirectApp, ["--var", `UPSTREAM=${upstream}`, "--allow-private-fetch"], async (server) => {
      t.deepEqual(await ask(server.url, ""), { status: 200, location: null, redirected: true, path: "/final", body: "final" });
      t.deepEqual(await ask(server.url, "mode=follow"), { status: 200, location: null, redirected: true, path: "/final", body: "final" });
      t.deepEqual(paths.splice(0), ["/start", "/final", "/start", "/final"]);

      t.deepEqual(await ask(server.url, "mode=manual"), { status: 302, location: "/final", redirected: false, path: "/start", body: "moved" });
      t.deepEqual(paths.splice(0), ["/start"]);

      t.deepEqual(await ask(server.url, "mode=error"), {
        error: 'TypeError: fetch failed: redirect mode is "error" and the response was a 302 redirect to /final',
      });
      t.deepEqual(paths.splice(0), ["/start"]);
    });
  });
});

test("fetch redirect: following a redirect loop stops after 20 hops with a TypeError", async (t) => {
  await withRedirectingUpstream(async (upstream, paths) => {
    await withApp(t, redirectApp, ["--var", `UPSTREAM=${upstream}`, "--allow-private-fetch"], async (server) => {
      const result = (await ask(server.url, "path=/loop")) as { error: string };
      t.regex(result.error, /^TypeError: fetch failed: .*redirect count exceeded/);
      t.is(paths.length, 21);
    });
  });
});
