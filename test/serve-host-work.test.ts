/**
 * Host work an app makes the host do (decoding its subrequest bodies) is
 * paced per second per app (sandbox/host-work.ts), not only charged per
 * request: end to end through `edgehost serve`, with a local upstream on
 * 127.0.0.1 serving gzip bombs. The "host-work-report" failpoint logs the
 * app's charged host work at the end of each request: the host's own
 * account, so the test bounds a rate without timing anything itself.
 */
import test from "ava";
import { createServer, type Server } from "node:http";
import { gzipSync } from "node:zlib";
import { request } from "undici";
import { FAILPOINTS_ENV } from "../sandbox/failpoints.js";
import { HOST_WORK_BURST_MS, HOST_WORK_MS_PER_SECOND } from "../sandbox/host-work.js";
import { startEdgehostCommand, writeApp } from "./helpers/edgehost-process.js";

const MB = 1024 * 1024;
/** How long the attacker keeps sending requests. */
const ATTACK_MS = 3000;
/** Attacker requests in flight at once. */
const ATTACK_LOOPS = 6;
/**
 * What the bound may be over by: the piece being decoded when the balance
 * ran out, per body in flight (a few 16 KiB reads at 1.2 ms per MiB), and
 * rounding; far below the rate of one second.
 */
const SLACK_MS = 25;

/** Decoded size of one bomb. */
const BOMB_BYTES = 32 * MB;

// The bomb passed on untouched: no CPU of the isolate's own and no entry per
// chunk, so the host decodes as fast as its event loop goes (this is the
// decoding-charge test's attacker, sending request after request).
const ATTACKER = `
export default {
  fetch(request, env) {
    return fetch(env.BOMB_URL);
  },
};
`;

const VICTIM = `
export default {
  fetch() {
    return new Response("victim ok");
  },
};
`;

test("host work: an app decoding gzip bombs request after request is paced to its host-work rate, while another app on the same server keeps answering", async (t) => {
  const bomb = gzipSync(Buffer.alloc(BOMB_BYTES), { level: 9 });
  const upstream: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-encoding": "gzip", "content-type": "application/octet-stream", "content-length": bomb.byteLength }).end(bomb);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  t.teardown(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const bombUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/bomb`;
  const files = writeApp({
    "edgehost.json": JSON.stringify({
      listen: { host: "127.0.0.1", port: 0 },
      // Not about CPU limits: budgets no request reaches on a loaded machine; one replica, so one account.
      defaults: { limits: { cpuMs: 10_000 } },
      cache: { replicas: 1 },
      apps: [
        { name: "attacker", entry: "attacker.ts", routes: ["attacker.test"], vars: { BOMB_URL: bombUrl }, outbound: { allowPrivate: true } },
        { name: "victim", entry: "victim.ts", routes: ["victim.test"] },
      ],
    }),
    "attacker.ts": ATTACKER,
    "victim.ts": VICTIM,
  });
  t.teardown(files.cleanup);
  const server = await startEdgehostCommand(["serve", "edgehost.json", "--port", "0"], files.dir, { ...process.env, [FAILPOINTS_ENV]: "host-work-report" });
  t.teardown(() => void server.stop());
  const get = async (host: string): Promise<{ status: number; body: string }> => {
    const response = await request(server.url, { headers: { host } });
    return { status: response.statusCode, body: await response.body.text() };
  };
  /** An attacker request: its status and how many decoded bytes came back. */
  const attackOnce = async (): Promise<string> => {
    const response = await request(server.url, { headers: { host: "attacker.test" } });
    let bytes = 0;
    for await (const chunk of response.body) bytes += (chunk as Buffer).byteLength;
    return `${response.statusCode} ${bytes}`;
  };
  t.deepEqual(await get("victim.test"), { status: 200, body: "victim ok" });

  const startedAt = performance.now();
  const attackerOutcomes: string[] = [];
  const attack = async (): Promise<void> => {
    while (performance.now() - startedAt < ATTACK_MS) attackerOutcomes.push(await attackOnce());
  };
  const victimAnswers: Array<{ status: number; body: string }> = [];
  const victim = async (): Promise<void> => {
    while (performance.now() - startedAt < ATTACK_MS) victimAnswers.push(await get("victim.test"));
  };
  await Promise.all([...Array.from({ length: ATTACK_LOOPS }, attack), victim()]);
  // Every attacker request has logged the app's total by the time its record is dropped.
  const line = /"app":"attacker"[^\n]*"msg":"host work: ([\d.]+) ms charged"/g;
  await server.waitForOutput(new RegExp(`(?:${line.source}[\\s\\S]*?){${attackerOutcomes.length}}`), 30_000);
  const elapsedS = (performance.now() - startedAt) / 1000;
  const chargedMs = Math.max(...[...server.output().matchAll(line)].map((match) => Number(match[1])));
  const boundMs = HOST_WORK_BURST_MS + HOST_WORK_MS_PER_SECOND * elapsedS + SLACK_MS;
  t.log(`attacker: ${attackerOutcomes.length} requests, ${chargedMs.toFixed(0)} ms of host work in ${elapsedS.toFixed(1)} s (bound ${boundMs.toFixed(0)} ms); victim: ${victimAnswers.length} answers`);

  // Paced, not refused: the attacker's requests still succeed, only slower.
  t.true(attackerOutcomes.length > 0);
  t.deepEqual([...new Set(attackerOutcomes)], [`200 ${BOMB_BYTES}`]);
  t.true(chargedMs <= boundMs, `the attacker's host work, ${chargedMs} ms in ${elapsedS} s, is over the bound of ${boundMs} ms`);
  // Paced to the rate, not starved far below it: the bucket hands out what it refills.
  t.true(chargedMs >= HOST_WORK_MS_PER_SECOND * (ATTACK_MS / 1000) * 0.5, `the attacker's host work, ${chargedMs} ms, is far below the rate`);
  t.true(victimAnswers.length > 0);
  t.deepEqual([...new Set(victimAnswers.map((answer) => `${answer.status} ${answer.body}`))], ["200 victim ok"]);
});
