/**
 * A log reader that falls behind must not stall the front end: with stdout
 * a pipe nobody reads, `edgehost serve` keeps answering, queues its records
 * (bounded) and, once past the bound, drops them and says how much it
 * dropped when stdout is read again. Before, the JSON log wrote stdout
 * synchronously and slept 100 ms per retry of a full pipe: the front end
 * froze once the pipe's 64 KiB were full.
 */
import { spawn } from "node:child_process";
import test from "ava";
import { request } from "undici";
import { EDGEHOST_BIN, writeApp } from "./helpers/edgehost-process.js";

const LISTENING = /"msg":"edgehost: serving [^"]* at (http:\/\/127\.0\.0\.1:\d+)\//;
/** Each request's record is ~250 bytes: 1,500 of them are far past the pipe (64 KiB) and the test queue (64 KiB). */
const REQUESTS = 1500;

test("serve: with stdout unread the front end still answers every request; records past the queue are dropped and the drop is reported", async (t) => {
  const { dir, cleanup } = writeApp({
    "edgehost.json": JSON.stringify({ listen: { host: "127.0.0.1", port: 0 }, apps: [{ name: "app", entry: "app.ts", routes: ["*"] }] }),
    "app.ts": 'export default { fetch() { return new Response("ok"); } };\n',
  });
  t.teardown(cleanup);
  const child = spawn(process.execPath, [EDGEHOST_BIN, "serve", "edgehost.json"], {
    cwd: dir,
    env: { ...process.env, EDGEHOST_FAILPOINTS: "log-small-queue" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  child.stderr.resume();
  let output = "";
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${output}`)), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = LISTENING.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
  });
  // From now on nobody reads stdout: the pipe fills, then the front end's queue.
  child.stdout.pause();
  let answered = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const response = await request(`${origin}/`, { signal: AbortSignal.timeout(10_000) });
    if ((await response.body.text()) === "ok") answered++;
  }
  t.is(answered, REQUESTS, "every request was answered with stdout unread");
  // Read again: the queued records come out, then the drop is reported with the next records.
  const drained = new Promise<void>((resolve) => {
    child.stdout.on("data", () => {
      if (/bytes of log records dropped: stdout was not read fast enough/.test(output)) resolve();
    });
  });
  child.stdout.resume();
  for (let i = 0; i < 5 && !/bytes of log records dropped/.test(output); i++) {
    await (await request(`${origin}/`, { signal: AbortSignal.timeout(10_000) })).body.dump();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  t.regex(output, /"level":"warn".*bytes of log records dropped: stdout was not read fast enough/);
  child.kill("SIGTERM");
});
