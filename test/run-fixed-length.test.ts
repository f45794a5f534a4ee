/**
 * FixedLengthStream response bodies through a real front end: Content-Length
 * framing (not chunked), and a body that ends short or runs long is cut (the
 * client sees a broken response, never a well-framed wrong one), while the
 * server goes on. The byte-level behaviours are diffed against workerd in
 * differential-workerd.test.ts.
 */
import test from "ava";
import { withApp } from "./helpers/with-app.js";

const fixedLengthApp = `
function fixedBody(announced: number, sizes: number[]): ReadableStream {
  const { readable, writable } = new (globalThis as any).FixedLengthStream(announced);
  const writer = writable.getWriter();
  (async () => {
    for (const size of sizes) await writer.write(new Uint8Array(size).fill(97));
    await writer.close();
  })().catch(() => undefined);
  return readable;
}
export default {
  fetch(request: Request) {
    const path = new URL(request.url).pathname;
    // 3 MiB in 64 KiB writes: pulled chunk by chunk, framed by Content-Length throughout.
    if (path === "/big") return new Response(fixedBody(3 * 1024 * 1024, Array(48).fill(64 * 1024)));
    if (path === "/short") return new Response(fixedBody(10, [4]));
    if (path === "/long") return new Response(fixedBody(4, [3, 3]));
    if (path === "/over-limit") return new Response(fixedBody(200 * 1024 * 1024, [1]));
    return new Response("small");
  },
};
`;

async function readOutcome(response: Response): Promise<{ outcome: string; received: number }> {
  let received = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { outcome: "ended", received };
      received += value.byteLength;
    }
  } catch {
    return { outcome: "cut", received };
  }
}

test("fixed length: a FixedLengthStream body goes out with its Content-Length, not chunked, whole", async (t) => {
  await withApp(t, fixedLengthApp, ["--cpu-ms", "2000"], async (server) => {
    const response = await fetch(`${server.url}/big`);
    t.is(response.status, 200);
    t.is(response.headers.get("content-length"), String(3 * 1024 * 1024));
    t.is(response.headers.get("transfer-encoding"), null);
    t.deepEqual(await readOutcome(response), { outcome: "ended", received: 3 * 1024 * 1024 });
  });
});

test("fixed length: a body that ends short of its length or runs past it is cut, and the server goes on", async (t) => {
  await withApp(t, fixedLengthApp, ["--cpu-ms", "2000"], async (server) => {
    const short = await fetch(`${server.url}/short`);
    t.is(short.headers.get("content-length"), "10");
    const shortOutcome = await readOutcome(short);
    t.is(shortOutcome.outcome, "cut");
    t.true(shortOutcome.received <= 4);
    const long = await fetch(`${server.url}/long`);
    t.is(long.headers.get("content-length"), "4");
    const longOutcome = await readOutcome(long);
    t.is(longOutcome.outcome, "cut", "4 well-framed bytes of a 6-byte body would be a wrong answer");
    t.true(longOutcome.received <= 4);
    t.is(await (await fetch(server.url)).text(), "small");
  });
});

test("fixed length: a length past the response size limit is refused before anything is sent", async (t) => {
  await withApp(t, fixedLengthApp, ["--cpu-ms", "2000"], async (server) => {
    const response = await fetch(`${server.url}/over-limit`);
    t.is(response.status, 503);
    t.is(((await response.json()) as { error: string }).error, "response_size_limit");
    t.is(await (await fetch(server.url)).text(), "small");
  });
});
