import test from "ava";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { contentCodings, DECODE_CHUNK_BYTES } from "../sandbox/content-decoding.js";
import { SandboxError } from "../sandbox/errors.js";
import { FETCH_BODY_WINDOW_BYTES, type FetchedBody } from "../sandbox/fetched-body.js";
import { HostMemoryBudget } from "../sandbox/host-memory.js";
import { OutboundFetcher, type OutboundResponse } from "../sandbox/outbound-fetch.js";

const MB = 1024 * 1024;

interface Fixture {
  readonly fetcher: OutboundFetcher;
  readonly budget: HostMemoryBudget;
  readonly base: string;
  /** Decoded bytes charged through the DecodingAccount. */
  readonly charged: () => number;
  readonly get: (path: string) => Promise<OutboundResponse>;
}

/** An upstream on 127.0.0.1 and a fetcher allowed to reach it; both closed in `finally`. */
async function withFetcher(handler: RequestListener, maxResponseBytes: number, run: (fixture: Fixture) => Promise<void>, readDelayMs = 0): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const budget = new HostMemoryBudget(256 * MB);
  const fetcher = new OutboundFetcher({ allowPrivate: true, timeoutMs: 10_000, maxResponseBytes, maxRequestBodyBytes: MB, hostMemory: budget });
  let charged = 0;
  let asked = 0;
  const decoding = {
    charge: (bytes: number): undefined => {
      charged += bytes;
      return undefined;
    },
    // As HostWorkBudget.waitMs: a read put off is not put off again when its time comes.
    readDelayMs: () => (asked++ % 2 === 0 ? readDelayMs : 0),
  };
  try {
    await run({
      fetcher,
      budget,
      base,
      charged: () => charged,
      get: (path) => fetcher.fetch({ url: base + path, method: "GET", headers: [], body: null, redirect: "follow" }, new AbortController().signal, decoding),
    });
  } finally {
    await fetcher.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Read a streamed body to its end as the isolate does (pull, release); the bytes, or the error it stopped with. */
async function readAll(stream: FetchedBody): Promise<{ bytes: Buffer; error: string | undefined }> {
  const parts: Buffer[] = [];
  try {
    for (;;) {
      const chunk = await stream.pull();
      if (chunk.bytes !== null) parts.push(Buffer.from(chunk.bytes));
      chunk.release();
      if (chunk.done || chunk.bytes === null) return { bytes: Buffer.concat(parts), error: undefined };
    }
  } catch (error) {
    return { bytes: Buffer.concat(parts), error: error instanceof SandboxError ? `${error.code}: ${error.message}` : String(error) };
  }
}

function header(response: OutboundResponse, name: string): string | undefined {
  const at = response.headers.findIndex((value, i) => i % 2 === 0 && value === name);
  return at < 0 ? undefined : response.headers[at + 1];
}

test("content decoding: codings are judged as undici's fetch judged them (all known or none, at most five)", (t) => {
  t.deepEqual(contentCodings(undefined), { kind: "none" });
  t.deepEqual(contentCodings("GZIP, br"), { kind: "decode", codings: ["gzip", "br"] });
  t.deepEqual(contentCodings("x-gzip,deflate"), { kind: "decode", codings: ["x-gzip", "deflate"] });
  t.deepEqual(contentCodings("gzip, identity"), { kind: "none" });
  t.deepEqual(contentCodings("gzip, "), { kind: "none" });
  t.deepEqual(contentCodings("gzip,gzip,gzip,gzip,gzip,gzip"), { kind: "too-many", count: 6 });
});

test("content decoding: a \"gzip, br\" body is decoded br first, then gzip, and keeps its content-encoding header", async (t) => {
  const text = "stacked codings through the host's own decoder ".repeat(20_000);
  // "gzip, br": gzip was applied first, br last.
  const stacked = brotliCompressSync(gzipSync(text));
  await withFetcher(
    (req, res) => {
      const [encoding, body] =
        req.url === "/deflate" ? ["deflate", deflateSync(text)] : req.url === "/raw-deflate" ? ["deflate", deflateRawSync(text)] : ["gzip, br", stacked];
      res.writeHead(200, { "content-encoding": encoding, "x-after": "1", "cache-control": "no-store" }).end(body);
    },
    64 * MB,
    async ({ get, charged, budget }) => {
      const response = await get("/stacked");
      t.is(response.status, 200);
      t.is(header(response, "content-encoding"), "gzip, br");
      // Once, in its place among the others (Headers iterates names sorted).
      const names = response.headers.filter((_, i) => i % 2 === 0);
      t.deepEqual(names, [...names].sort());
      t.is(names.filter((name) => name === "content-encoding").length, 1);
      t.not(response.stream, null);
      t.true(response.stream?.decoded);
      const { bytes, error } = await readAll(response.stream as FetchedBody);
      t.is(error, undefined);
      t.is(bytes.toString(), text);
      // Both layers are charged.
      t.is(charged(), 2 * Buffer.byteLength(text));
      for (const path of ["/deflate", "/raw-deflate"]) {
        const deflated = await get(path);
        t.deepEqual(await readAll(deflated.stream as FetchedBody), { bytes: Buffer.from(text), error: undefined }, path);
      }
      t.is(budget.usedBytes, 0);
    },
  );
});

// Serial: it measures the process's peak RSS, which tests running beside it would move.
test.serial("content decoding: a stacked \"gzip, br\" bomb is decoded only as far as it is read: cut at the size limit, the host holding a window", async (t) => {
  // 256 MiB of zeros gzipped, then brotli: a few hundred bytes.
  const bomb = brotliCompressSync(gzipSync(Buffer.alloc(256 * MB), { level: 9 }));
  t.true(bomb.byteLength < 10_000, `bomb of ${bomb.byteLength} bytes`);
  const limitBytes = 8 * MB;
  await withFetcher(
    (_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip, br" }).end(bomb);
    },
    limitBytes,
    async ({ get, charged, budget }) => {
      const rssBefore = process.resourceUsage().maxRSS * 1024;
      const response = await get("/bomb");
      const stream = response.stream as FetchedBody;
      // Pulled once and not released: decoding stops a window ahead.
      const first = await stream.pull();
      t.true(first.bytes !== null && first.bytes.every((byte) => byte === 0));
      const second = await stream.pull();
      const held = budget.usedBytes;
      // Window, the join copy's moment and the decoders' pieces (two per coding).
      const bound = 2 * FETCH_BODY_WINDOW_BYTES + 2 * 2 * DECODE_CHUNK_BYTES + DECODE_CHUNK_BYTES;
      t.true(held <= bound, `held ${held} bytes`);
      first.release();
      second.release();
      const { bytes, error } = await readAll(stream);
      t.is(error, `EDGE_SANDBOX_FETCH_FAILED: fetch failed: response body exceeds ${limitBytes} bytes`);
      t.true(bytes.byteLength <= limitBytes);
      t.true(budget.peakBytes <= bound, `host memory peak ${budget.peakBytes} bytes`);
      // Decoding stopped at the limit, not at 256 MiB: both layers charged for about the limit.
      t.true(charged() <= 2 * (limitBytes + DECODE_CHUNK_BYTES), `charged ${charged()} bytes`);
      t.is(budget.usedBytes, 0);
      // Nor did it run ahead of the reads outside the account (a decoder
      // that buffered its output would have held most of the 256 MiB).
      const rssGrowth = process.resourceUsage().maxRSS * 1024 - rssBefore;
      t.true(rssGrowth < 128 * MB, `peak RSS grew by ${(rssGrowth / MB).toFixed(0)} MB`);
    },
    // Paced as the host-work rate paces it (8 MiB in 64 KiB reads: over a
    // second), so that a decoder running ahead would have time to.
    10,
  );
});

test("content decoding: more than five codings fail the fetch as undici's fetch did", async (t) => {
  await withFetcher(
    (_req, res) => {
      res.writeHead(200, { "content-encoding": "gzip, gzip, gzip, gzip, gzip, gzip" }).end("x");
    },
    MB,
    async ({ get, budget }) => {
      const error = await t.throwsAsync(get("/"), { instanceOf: SandboxError });
      t.is(error?.code, "EDGE_SANDBOX_FETCH_FAILED");
      t.is(error?.message, "fetch failed: too many content-encodings in response: 6, maximum allowed is 5");
      t.is(budget.usedBytes, 0);
    },
  );
});
