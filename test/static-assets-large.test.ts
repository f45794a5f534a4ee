import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readlinkSync, realpathSync, truncateSync, writeFileSync } from "node:fs";
import { request, type IncomingMessage } from "node:http";
import { join } from "node:path";
import test from "ava";
import { send, withAssetServer } from "./helpers/with-asset-server.js";

const SIZE = 50 * 1024 * 1024;

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A GET whose response the test reads (or not) at its own pace. */
function open(port: number, path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, resolve);
    req.on("error", reject);
    req.end();
  });
}

/** Hash a response body as it arrives; resolves with its hash and length, rejects if it is cut. */
function digest(response: IncomingMessage): Promise<{ hash: string; length: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let length = 0;
    response.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    response.on("end", () => (response.complete ? resolve({ hash: hash.digest("hex"), length }) : reject(new Error(`cut after ${length} bytes`))));
    response.on("error", reject);
    response.on("aborted", () => reject(new Error(`aborted after ${length} bytes`)));
  });
}

/** Descriptors of this process (server and client both) open on `path`. */
function descriptorsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // Closed between the listing and the readlink.
    }
  }
  return count;
}

/** Wait (bounded) until no descriptor is open on `path`: the server closed the file. */
async function closedEverywhere(path: string, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (descriptorsOn(path) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return descriptorsOn(path);
}

/** The largest gap between event-loop turns while `body` runs, for the log (not asserted: the machine is shared). */
async function withLoopWatch<T>(body: () => Promise<T>): Promise<{ result: T; maxGapMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 1);
  try {
    return { result: await body(), maxGapMs };
  } finally {
    clearInterval(timer);
  }
}

test("static assets: a 50 MB file arrives whole (checksum) while the server keeps answering other requests", async (t) => {
  const big = randomBytes(SIZE);
  await withAssetServer(t, { assets: { "big.bin": big, "small.txt": "small" } }, async ({ port }) => {
    const { result, maxGapMs } = await withLoopWatch(async () => {
      const response = await open(port, "/big.bin");
      t.is(response.statusCode, 200);
      t.is(response.headers["content-length"], String(SIZE));
      // The client does not read yet: the server is held by backpressure and must still answer others.
      response.pause();
      const small = await send(port, "/small.txt");
      t.is(small.body.toString(), "small");
      const whole = digest(response);
      response.resume();
      return whole;
    });
    t.log(`largest event-loop gap during the 50 MB transfer (server and client in one process): ${maxGapMs.toFixed(1)} ms`);
    t.deepEqual(result, { hash: sha256(big), length: SIZE });
    const tail = await open(port, "/big.bin", { range: `bytes=${SIZE - 1_000_001}-` });
    t.is(tail.statusCode, 206);
    t.is(tail.headers["content-range"], `bytes ${SIZE - 1_000_001}-${SIZE - 1}/${SIZE}`);
    t.deepEqual(await digest(tail), { hash: sha256(big.subarray(SIZE - 1_000_001)), length: 1_000_001 });
  });
});

test("static assets: a client that leaves mid-file gets its file closed, and so does every finished download", async (t) => {
  const big = randomBytes(SIZE);
  await withAssetServer(t, { assets: { "big.bin": big } }, async ({ port, assetsDir }) => {
    const path = join(realpathSync(assetsDir), "big.bin");
    await digest(await open(port, "/big.bin"));
    t.is(await closedEverywhere(path), 0);
    const response = await open(port, "/big.bin");
    await new Promise((resolve) => response.once("data", resolve));
    t.is(descriptorsOn(path), 1, "the download holds the file open");
    response.destroy();
    t.is(await closedEverywhere(path), 0);
    for (let i = 0; i < 3; i++) t.is((await digest(await open(port, "/big.bin", { range: "bytes=0-99999" }))).length, 100_000);
    await send(port, "/big.bin", { method: "HEAD" });
    t.is(await closedEverywhere(path), 0);
  });
});

test("static assets: a file that shrinks while it is sent cuts the connection instead of ending a short body", async (t) => {
  const big = randomBytes(SIZE);
  await withAssetServer(t, { assets: { "big.bin": big } }, async ({ port, assetsDir }) => {
    const response = await open(port, "/big.bin");
    response.pause();
    const path = join(assetsDir, "big.bin");
    truncateSync(path, 1024);
    response.resume();
    // Bounded: a server that ended the body short, or left it hanging, must fail here, not at ava's timeout.
    const cut = Promise.race([digest(response), new Promise((_, reject) => setTimeout(() => reject(new Error("still open after 10 s")), 10_000).unref())]);
    const error = await t.throwsAsync(cut.finally(() => response.destroy()));
    t.regex(error.message, /cut after|aborted after|aborted/);
    // The next request sees the file as it is now.
    writeFileSync(path, "now small");
    t.is((await send(port, "/big.bin")).body.toString(), "now small");
  });
});
