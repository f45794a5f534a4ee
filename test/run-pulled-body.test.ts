import test from "ava";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { procStatusBytes } from "./helpers/proc-stats.js";
import { withApp } from "./helpers/with-app.js";

// Bodies over 64 KB stay in the isolate and are pulled a chunk at a time
// (sandbox/prelude/outgoing-body.ts); these check what reaches the client.
const bigBodiesApp = `
function bytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}
// Multi-byte characters and surrogate pairs everywhere, so chunk edges fall inside them.
const text = "héllo wörld 😀 ".repeat(200_000);
export default {
  fetch(request: Request) {
    const path = new URL(request.url).pathname;
    if (path === "/bytes") return new Response(bytes(3 * 1024 * 1024 + 17));
    if (path === "/text") return new Response(text);
    return new Response("small");
  },
};
`;

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function expectedBytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}

test("pulled body: a large bytes body arrives whole with its Content-Length", async (t) => {
  await withApp(t, bigBodiesApp, ["--memory-mb", "512", "--cpu-ms", "2000", "--startup-ms", "5000"], async (server) => {
    const response = await fetch(`${server.url}/bytes`);
    t.is(response.status, 200);
    t.is(response.headers.get("content-length"), String(3 * 1024 * 1024 + 17));
    const body = new Uint8Array(await response.arrayBuffer());
    t.is(sha256(body), sha256(expectedBytes(3 * 1024 * 1024 + 17)));
  });
});

test("pulled body: a large string body arrives whole, UTF-8 intact across chunk edges, chunked", async (t) => {
  await withApp(t, bigBodiesApp, ["--memory-mb", "512", "--cpu-ms", "2000", "--startup-ms", "5000"], async (server) => {
    const response = await fetch(`${server.url}/text`);
    t.is(response.status, 200);
    t.is(response.headers.get("content-length"), null);
    t.is(response.headers.get("transfer-encoding"), "chunked");
    const text = await response.text();
    t.is(text.length, "héllo wörld 😀 ".length * 200_000);
    t.is(sha256(text), sha256("héllo wörld 😀 ".repeat(200_000)));
    t.is(await (await fetch(server.url)).text(), "small");
  });
});

const hugeBodyApp = `
const big = new Uint8Array(100 * 1024 * 1024).fill(7);
export default {
  fetch(request: Request) {
    return new URL(request.url).pathname === "/huge" ? new Response(big) : new Response("small");
  },
};
`;

test("pulled body: a slow client holds one chunk on the host, not a copy of the whole body", async (t) => {
  await withApp(t, hugeBodyApp, ["--memory-mb", "512", "--cpu-ms", "2000", "--startup-ms", "5000"], async (server) => {
    const before = procStatusBytes(server.frontEndPid, "VmRSS");
    // Read the head, then stop reading: the socket fills and backpressure holds the rest.
    const received = await new Promise<{ length: string | undefined; destroy: () => void }>((resolve, reject) => {
      const request = httpRequest(`${server.url}/huge`, (response) => {
        response.pause();
        resolve({ length: response.headers["content-length"], destroy: () => request.destroy() });
      });
      request.on("error", reject);
      request.end();
    });
    t.is(received.length, String(100 * 1024 * 1024));
    // Give the host time to buffer whatever it would buffer.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const grownMb = (procStatusBytes(server.frontEndPid, "VmRSS") - before) / 1024 / 1024;
    t.log(`front end RSS grew ${grownMb.toFixed(0)} MB while a 100 MB response waits for its reader`);
    // The Response constructor copies the bytes inside the isolate (as the
    // Fetch spec says): 100 MB of the growth is the isolate's own. A second,
    // whole copy on the host would add another 100 MB; a chunk adds 1 MB.
    t.true(grownMb < 150, `grew ${grownMb.toFixed(0)} MB`);
    received.destroy();
    t.is(await (await fetch(server.url)).text(), "small");
  });
});

const streamingApp = `
let release: (() => void) | undefined;
const encoder = new TextEncoder();
export default {
  fetch(request: Request) {
    const path = new URL(request.url).pathname;
    if (path === "/release") {
      release?.();
      return new Response("released");
    }
    if (path === "/events") {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode("data: one\\n\\n"));
          release = () => {
            controller.enqueue(encoder.encode("data: two\\n\\n"));
            controller.close();
          };
        },
        cancel() {
          console.log("stream cancelled by the client");
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    if (path === "/endless") {
      return new Response(new ReadableStream({ pull(controller) { controller.enqueue(new Uint8Array(1024 * 1024)); } }));
    }
    return new Response("small");
  },
};
`;

/** GET `url` and hand back the response's chunks as they arrive. */
function streamingGet(url: string): Promise<{ status: number | undefined; headers: Record<string, unknown>; next(): Promise<string | null>; destroy(): void }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, (response) => {
      // Chunks as they came, null for the end, until someone asks for them.
      const chunks: Array<string | null> = [];
      const waiting: Array<(chunk: string | null) => void> = [];
      const push = (chunk: string | null): void => {
        const waiter = waiting.shift();
        if (waiter) waiter(chunk);
        else chunks.push(chunk);
      };
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => push(chunk));
      response.on("end", () => push(null));
      response.on("error", () => push(null));
      resolve({
        status: response.statusCode,
        headers: response.headers,
        next: () => (chunks.length > 0 ? Promise.resolve(chunks.shift() ?? null) : new Promise((resolveChunk) => waiting.push(resolveChunk))),
        destroy: () => request.destroy(),
      });
    });
    request.on("error", reject);
    request.end();
  });
}

// Streams load on first use (a few ms of the request's CPU): room for a loaded machine.
const STREAM_APP_ARGS = ["--cpu-ms", "1000"];

test("pulled body: a stream response reaches the client as the app produces it (Server-Sent Events)", async (t) => {
  await withApp(t, streamingApp, STREAM_APP_ARGS, async (server) => {
    const events = await streamingGet(`${server.url}/events`);
    t.is(events.status, 200);
    t.is(events.headers["content-type"], "text/event-stream");
    t.is(events.headers["transfer-encoding"], "chunked");
    // The second event exists only once /release is asked for: the first must arrive before that.
    t.is(await events.next(), "data: one\n\n");
    t.is(await (await fetch(`${server.url}/release`)).text(), "released");
    t.is(await events.next(), "data: two\n\n");
    t.is(await events.next(), null);
  });
});

test("pulled body: a client that leaves mid-stream cancels the app's stream", async (t) => {
  await withApp(t, streamingApp, STREAM_APP_ARGS, async (server) => {
    const events = await streamingGet(`${server.url}/events`);
    t.is(await events.next(), "data: one\n\n");
    events.destroy();
    await server.waitForOutput(/stream cancelled by the client/);
    t.is(await (await fetch(server.url)).text(), "small");
  });
});

test("pulled body: a stream past the response size limit is cut off, and the server goes on", async (t) => {
  await withApp(t, streamingApp, ["--cpu-ms", "5000"], async (server) => {
    const response = await fetch(`${server.url}/endless`);
    t.is(response.status, 200, response.status === 200 ? "" : await response.text());
    let received = 0;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const outcome = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return "ended";
        received += value.byteLength;
      }
    })().catch(() => "cut");
    t.is(outcome, "cut");
    t.true(received <= 128 * 1024 * 1024, `received ${received} bytes`);
    t.true(received >= 100 * 1024 * 1024, `received only ${received} bytes`);
    await server.waitForOutput(/response cut after its status was sent: response body exceeds the limit of 134217728 bytes/);
    t.is(await (await fetch(server.url)).text(), "small");
  });
});
