import test from "ava";
import { createHash } from "node:crypto";
import { createServer, get as httpGet, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { deflateSync, gzipSync } from "node:zlib";
import { FAILPOINTS_ENV } from "../sandbox/failpoints.js";
import type { RunningEdgehost } from "./helpers/edgehost-process.js";
import { withApp } from "./helpers/with-app.js";

// Outbound fetch response bodies stream (sandbox/fetched-body.ts): the host
// reads upstream at most a window ahead of the app, counted in the app's
// host-memory account, which the "host-memory-report" failpoint logs at the
// end of each request.

const MB = 1024 * 1024;
/** What one subrequest may hold on the host: the 512 KiB window, its join copy, one upstream read. */
const WINDOW_BOUND_BYTES = 1.25 * MB;
const REPORT_ENV = { ...process.env, [FAILPOINTS_ENV]: "host-memory-report" };
/** Not about CPU limits: generous budgets for a loaded machine. */
const ARGS = ["--allow-private-fetch", "--cpu-ms", "5000"];

async function withUpstream<T>(handler: (req: IncomingMessage, res: ServerResponse) => void, body: (url: string) => Promise<T>): Promise<T> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await body(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** Write `total` bytes of a repeating pattern (or forever) at the reader's pace; resolves with the bytes written when the socket closes. */
function writePattern(res: ServerResponse, total: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  let written = 0;
  const closed = new Promise<number>((resolve) => res.once("close", () => resolve(written)));
  const pump = (): void => {
    while (written < total && !res.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - written));
      written += piece.length;
      if (!res.write(piece)) {
        res.once("drain", pump);
        return;
      }
    }
    if (written >= total) res.end();
  };
  pump();
  return closed;
}

function patternHash(total: number): string {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  const hash = createHash("sha256");
  for (let sent = 0; sent < total; sent += chunk.length) hash.update(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  return hash.digest("hex");
}

/** The app's host-memory high-water mark as the `requests`-th report line gave it (see failpoints.ts). */
async function peakAfter(server: RunningEdgehost, requests: number): Promise<number> {
  const line = "host memory: \\d+ bytes held, peak (\\d+) bytes";
  await server.waitForOutput(new RegExp(`(?:${line}[\\s\\S]*?){${requests}}`));
  const matches = [...server.output().matchAll(new RegExp(line, "g"))];
  return Number(matches[requests - 1]?.[1]);
}

/** Reject with `message` if `promise` has not settled within `ms` (a guard, so a regression fails instead of hanging). */
function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

const BIG_BYTES = 50 * 1000 * 1000;

test("fetch stream: a 50 MB upstream body streams through the app to the client while the host holds one window of it (passed on as it is, or read by the app)", async (t) => {
  await withUpstream(
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      void writePattern(res, BIG_BYTES);
    },
    async (upstream) => {
      const app = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const path = new URL(request.url).pathname;
    // Untouched bodies go from upstream to the client on the host; a transformed one is read by the app.
    if (path === "/wrap") return new Response((await fetch(env.UPSTREAM)).body, { headers: { "x-wrapped": "yes" } });
    if (path === "/through") return new Response((await fetch(env.UPSTREAM)).body!.pipeThrough(new TransformStream()));
    return fetch(env.UPSTREAM);
  },
};
`;
      await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}`], async (server) => {
        const expected = patternHash(BIG_BYTES);
        for (const [index, path] of ["/", "/wrap", "/through"].entries()) {
          const response = await fetch(server.url + path);
          t.is(response.status, 200);
          const hash = createHash("sha256");
          let bytes = 0;
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
            hash.update(chunk);
            bytes += chunk.byteLength;
          }
          t.is(bytes, BIG_BYTES, path);
          t.is(hash.digest("hex"), expected, path);
          const peak = await peakAfter(server, index + 1);
          t.log(`${path}: host memory peak ${peak} bytes for a ${BIG_BYTES}-byte body`);
          t.true(peak <= WINDOW_BOUND_BYTES, `${path}: host memory peak ${peak} bytes`);
        }
      }, REPORT_ENV);
    },
  );
});

test("fetch stream: the first events of a slow (SSE-style) upstream reach the client before the upstream ends", async (t) => {
  let finish!: () => void;
  const released = new Promise<void>((resolve) => (finish = resolve));
  await withUpstream(
    (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      // The rest only once the client has seen the first event.
      void released.then(() => res.end("data: last\n\n"));
    },
    async (upstream) => {
      const app = `export default { fetch: (request: Request, env: { UPSTREAM: string }) => fetch(env.UPSTREAM) };`;
      await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}`], async (server) => {
        const response = await within(fetch(server.url), 15_000, "the response head did not arrive before the upstream ended");
        t.is(response.headers.get("content-type"), "text/event-stream");
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        const decoder = new TextDecoder();
        const first = await within(reader.read(), 15_000, "the first event did not arrive before the upstream ended");
        t.is(decoder.decode(first.value), "data: first\n\n");
        finish();
        let rest = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          rest += decoder.decode(value, { stream: true });
        }
        t.is(rest, "data: last\n\n");
      });
    },
  );
});

test("fetch stream: the upstream is cancelled when the app cancels the reader, and when the request ends without reading", async (t) => {
  const connections = new Map<string, Promise<number>>();
  await withUpstream(
    (req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      // Endless: only the reader going away ends it.
      connections.set(req.url ?? "", writePattern(res, Number.POSITIVE_INFINITY));
    },
    async (upstream) => {
      const app = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const path = new URL(request.url).pathname;
    const r = await fetch(env.UPSTREAM + path);
    if (path === "/ignore") return new Response("ignored " + r.status);
    const reader = r.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return new Response("cancelled after " + (value ? "a chunk" : "nothing"));
  },
};
`;
      await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}`], async (server) => {
        for (const [path, answer] of [["/cancel", "cancelled after a chunk"], ["/ignore", "ignored 200"]] as const) {
          t.is(await (await fetch(server.url + path)).text(), answer);
          const written = await within(connections.get(path) as Promise<number>, 15_000, `${path}: the upstream connection was not closed`);
          // What the upstream got rid of before the close: the host's window plus the sockets' buffers, not the 64 MiB a whole-body read takes.
          t.log(`${path}: the upstream wrote ${written} bytes before its socket closed`);
          t.true(written < 16 * MB, `${path}: the upstream wrote ${written} bytes`);
        }
      });
    },
  );
});

test("fetch stream: a gzip bomb read by the app stops at the subrequest size limit, and the host holds only a window of it", async (t) => {
  // 256 MiB of zeros, ~256 KB gzipped.
  const bomb = gzipSync(Buffer.alloc(256 * MB), { level: 9 });
  await withUpstream(
    (_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "application/octet-stream" }).end(bomb);
    },
    async (upstream) => {
      const app = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const reader = (await fetch(env.UPSTREAM)).body!.getReader();
    let read = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return Response.json({ read, error: null });
        read += value.byteLength;
      }
    } catch (error) {
      return Response.json({ read, error: (error as Error).name + ": " + (error as Error).message });
    }
  },
};
`;
      await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}`], async (server) => {
        const result = (await (await fetch(server.url)).json()) as { read: number; error: string };
        t.is(result.error, `TypeError: fetch failed: response body exceeds ${64 * MB} bytes`);
        t.true(result.read > 60 * MB && result.read <= 64 * MB, `read ${result.read} bytes`);
        const peak = await peakAfter(server, 1);
        t.log(`host memory peak ${peak} bytes for a bomb of ${bomb.byteLength} bytes`);
        t.true(peak <= WINDOW_BOUND_BYTES, `host memory peak ${peak} bytes`);
      }, REPORT_ENV);
    },
  );
});

test("fetch stream: text() and json() of small, gzip, chunked, large and empty bodies", async (t) => {
  const large = "large body ".repeat(20_000);
  await withUpstream(
    (req, res) => {
      switch (req.url) {
        case "/json":
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ small: true }));
          return;
        case "/gzip":
          res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(gzipSync(JSON.stringify({ gzip: true })));
          return;
        case "/deflate":
          res.writeHead(200, { "content-encoding": "deflate" }).end(deflateSync(large));
          return;
        case "/chunked":
          res.writeHead(200);
          res.write("one,");
          res.write("two,");
          res.end("three");
          return;
        case "/large":
          res.writeHead(200).end(large);
          return;
        default:
          res.writeHead(204).end();
      }
    },
    async (upstream) => {
      const app = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const get = (path: string) => fetch(env.UPSTREAM + path);
    return Response.json({
      json: await (await get("/json")).json(),
      gzip: await (await get("/gzip")).json(),
      deflate: (await (await get("/deflate")).text()).length,
      chunked: await (await get("/chunked")).text(),
      large: (await (await get("/large")).arrayBuffer()).byteLength,
      largeText: (await (await get("/large")).text()) === "large body ".repeat(20_000),
      empty: await (await get("/empty")).text(),
      emptyBody: (await get("/empty")).body,
    });
  },
};
`;
      await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}`], async (server) => {
        t.deepEqual(await (await fetch(server.url)).json(), {
          json: { small: true },
          gzip: { gzip: true },
          deflate: large.length,
          chunked: "one,two,three",
          large: large.length,
          largeText: true,
          empty: "",
          emptyBody: null,
        });
      });
    },
  );
});

test("fetch stream: DecompressionStream over a fetched body errors on a corrupt gzip trailer and on truncated deflate data", async (t) => {
  const text = "compressed upstream text ".repeat(1000);
  const gzip = gzipSync(text);
  const corrupt = Buffer.from(gzip);
  corrupt[corrupt.length - 6] = (corrupt[corrupt.length - 6] as number) ^ 0xff;
  const deflate = deflateSync(text);
  const bodies: Record<string, Buffer> = {
    "/gzip": gzip,
    "/corrupt-gzip": corrupt,
    "/truncated-deflate": deflate.subarray(0, deflate.length - 20),
  };
  await withUpstream(
    (req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" }).end(bodies[req.url ?? ""]);
    },
    async (upstream) => {
      const app = `
export default {
  async fetch(request: Request, env: { UPSTREAM: string }) {
    const decode = async (path: string, format: string) => {
      const r = await fetch(env.UPSTREAM + path);
      try {
        return "ok " + (await new Response(r.body!.pipeThrough(new DecompressionStream(format))).text()).length;
      } catch (error) {
        return (error as Error).name + ": " + (error as Error).message;
      }
    };
    return Response.json([await decode("/gzip", "gzip"), await decode("/corrupt-gzip", "gzip"), await decode("/truncated-deflate", "deflate")]);
  },
};
`;
      await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}`], async (server) => {
        const results = (await (await fetch(server.url)).json()) as string[];
        t.is(results[0], `ok ${text.length}`);
        t.is(results[1], "TypeError: DecompressionStream: incorrect data check");
        t.regex(results[2] ?? "", /^TypeError: DecompressionStream: (unexpected EOF|unexpected end of the compressed stream \(truncated\))$/);
      });
    },
  );
});

// Serial (alone, before the others): a 50 ms CPU budget is wall time on a busy isolate thread, and
// the other tests of this file decode and stream bombs of their own; beside them the warm-up's small
// requests breached again and again (CI, once), and the bombs then met the restart backoff.
test.serial("fetch stream: decoding a content-encoded body is charged to the request's CPU budget, so a passed-on gzip bomb is cut there, not at the size limit (a stacked \"gzip, gzip\" one too)", async (t) => {
  // 256 MiB of zeros, ~256 KB gzipped. Passed on untouched, it costs the
  // app almost no CPU of its own: the budget goes to the host's decoding.
  const bomb = gzipSync(Buffer.alloc(256 * MB), { level: 9 });
  // undici decodes every coding of a list: gzipped twice, it is a few KB.
  const doubleBomb = gzipSync(bomb, { level: 9 });
  await withUpstream(
    (req, res) => {
      const [encoding, body] = req.url === "/bomb" ? ["gzip", bomb] : req.url === "/double-bomb" ? ["gzip, gzip", doubleBomb] : ["gzip", gzipSync("small")];
      res.writeHead(200, { "content-encoding": encoding, "content-type": "application/octet-stream" }).end(body);
    },
    async (upstream) => {
      const app = `
export default {
  fetch(request: Request, env: { UPSTREAM: string }) {
    return fetch(env.UPSTREAM + new URL(request.url).pathname);
  },
};
`;
      // 50 ms of CPU at 0.9 ms per decoded MiB (per coding): at most 55 MiB, under the 64 MiB subrequest limit.
      await withApp(t, app, ["--allow-private-fetch", "--cpu-ms", "50", "--inline-ms", "50", "--var", `UPSTREAM=${upstream}`], async (server) => {
        // Warm-up: a fresh isolate's first entries cost it more than later ones, and on a
        // loaded machine (isolate CPU is wall time) one may even breach; three answers in a row will do.
        for (let attempt = 0, answered = 0; answered < 3 && attempt < 20; attempt++) {
          const ok = await fetch(`${server.url}/small`).then(
            async (response) => (await response.arrayBuffer(), response.status === 200),
            () => false,
          );
          answered = ok ? answered + 1 : 0;
          // A breach recycles the isolate, and the next start may be paced (restart_backoff): let it pass.
          if (!ok) await new Promise((resolve) => setTimeout(resolve, 500));
        }
        for (const [index, path] of ["/bomb", "/double-bomb"].entries()) {
          const received = await new Promise<number>((resolve) => {
            let bytes = 0;
            const request = httpGet(`${server.url}${path}`, (response) => {
              response.on("data", (chunk: Buffer) => (bytes += chunk.byteLength));
              response.on("end", () => resolve(bytes));
              response.on("error", () => resolve(bytes));
              response.on("aborted", () => resolve(bytes));
            });
            request.on("error", () => resolve(bytes));
          });
          await server.waitForOutput(new RegExp(`(?:decoding subrequest response bodies used up the request's CPU budget of 50 ms[\\s\\S]*?){${index + 1}}`));
          t.log(`${path}: the client got ${(received / MB).toFixed(1)} MiB of the decoded bomb`);
          // How much of the budget the app's own entry took depends on the machine's load (isolate CPU is wall time); what is certain is that decoding stopped before the 64 MiB size limit.
          t.true(received < 60 * MB, `${path}: received ${received} bytes`);
        }
      });
    },
  );
});

test("fetch stream: a gzip upstream response passed on untouched reaches the client decoded, without the content-encoding that no longer describes it", async (t) => {
  const large = "hello from a gzip upstream ".repeat(4000);
  await withUpstream(
    (req, res) => {
      // A large body streams through the host; a small one arrives whole with the head.
      res.writeHead(200, { "content-encoding": "gzip", "content-type": "text/plain" }).end(gzipSync(req.url === "/small" ? "small" : large));
    },
    async (upstream) => {
      const app = `
export default {
  fetch(request: Request, env: { UPSTREAM: string }) {
    return fetch(env.UPSTREAM);
  },
};
`;
      for (const [path, text] of [["/large", large], ["/small", "small"]] as const) {
        await withApp(t, app, [...ARGS, "--var", `UPSTREAM=${upstream}${path}`], async (server) => {
          // node:http does not decode: the client sees exactly what was sent.
          const { headers, body } = await new Promise<{ headers: Record<string, unknown>; body: string }>((resolve, reject) => {
            httpGet(server.url, (response) => {
              const chunks: Buffer[] = [];
              response.on("data", (chunk: Buffer) => chunks.push(chunk));
              response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }));
            }).on("error", reject);
          });
          t.is(headers["content-encoding"], undefined, path);
          t.is(headers["content-type"], "text/plain", path);
          t.is(body, text, path);
        });
      }
    },
  );
});
