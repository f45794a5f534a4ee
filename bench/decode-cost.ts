/**
 * Event-loop cost of decoding content-encoded subrequest bodies, per decoded
 * MiB: a child process serves a gzip bomb (64 KB of gzip, 64 MiB of zeros)
 * on 127.0.0.1; this process fetches it `--parallel` times at once through
 * OutboundFetcher and reads every body to its end as the isolate would
 * (pull, release), and reports the event loop's busy time
 * (perf_hooks.eventLoopUtilization) and its delay percentiles
 * (monitorEventLoopDelay) over the run, and the process's CPU time (event
 * loop plus the libuv pool).
 *
 * Usage: node --no-node-snapshot dist/bench/decode-cost.js [--parallel 10] [--runs 5] [--encoding gzip]
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { HostMemoryBudget } from "../sandbox/host-memory.js";
import { OutboundFetcher } from "../sandbox/outbound-fetch.js";

const MIB = 1024 * 1024;
const DECODED_BYTES = 64 * MIB;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

function serve(encoding: string): void {
  const zeros = Buffer.alloc(DECODED_BYTES);
  let body: Buffer = zeros;
  for (const coding of encoding.split(",").map((c) => c.trim())) body = coding === "br" ? brotliCompressSync(body) : gzipSync(body, { level: 9 });
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-encoding": encoding, "content-type": "application/octet-stream" }).end(body);
  });
  server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port, encodedBytes: body.byteLength }));
}

async function readAll(fetcher: OutboundFetcher, url: string): Promise<number> {
  const response = await fetcher.fetch({ url, method: "GET", headers: [], body: null, redirect: "follow" }, new AbortController().signal, {
    charge: () => undefined,
    readDelayMs: () => 0,
  });
  let bytes = response.body?.byteLength ?? 0;
  const stream = response.stream;
  if (stream !== null) {
    for (;;) {
      const chunk = await stream.pull();
      bytes += chunk.bytes?.byteLength ?? 0;
      chunk.release();
      if (chunk.done || chunk.bytes === null) break;
    }
  }
  response.reservation.releaseAll();
  return bytes;
}

async function main(): Promise<void> {
  const encoding = option("encoding", "gzip");
  if (process.argv.includes("--serve")) return serve(encoding);
  const parallel = Number(option("parallel", "10"));
  const runs = Number(option("runs", "5"));
  const child = fork(process.argv[1] as string, ["--serve", "--encoding", encoding], { stdio: "inherit" });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once("message", (m) => resolve(m as { port: number })));
  const url = `http://127.0.0.1:${port}/`;
  const fetcher = new OutboundFetcher({
    allowPrivate: true,
    timeoutMs: 30_000,
    maxResponseBytes: 2 * DECODED_BYTES,
    maxRequestBodyBytes: MIB,
    hostMemory: new HostMemoryBudget(1024 * MIB),
  });
  try {
    await readAll(fetcher, url);
    for (let run = 0; run < runs; run++) {
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const elu = performance.eventLoopUtilization();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const totals = await Promise.all(Array.from({ length: parallel }, () => readAll(fetcher, url)));
      const wallMs = performance.now() - started;
      const used = performance.eventLoopUtilization(elu);
      const cpuUsed = process.cpuUsage(cpu);
      delay.disable();
      const mib = totals.reduce((a, b) => a + b, 0) / MIB;
      const line = {
        encoding,
        parallel,
        decodedMiB: mib,
        wallMs: Math.round(wallMs),
        elu: Number(used.utilization.toFixed(2)),
        eventLoopMsPerMiB: Number((used.active / mib).toFixed(3)),
        cpuMsPerMiB: Number(((cpuUsed.user + cpuUsed.system) / 1000 / mib).toFixed(3)),
        delayP50Ms: Number((delay.percentile(50) / 1e6).toFixed(1)),
        delayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
        delayMaxMs: Number((delay.max / 1e6).toFixed(1)),
      };
      console.log(JSON.stringify(line));
    }
  } finally {
    await fetcher.close();
    child.kill();
  }
}

await main();
