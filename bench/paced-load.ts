/**
 * An open-loop, paced HTTP/1.1 load generator for latency under a moderate
 * load (the noisy-neighbour run). wrk is closed-loop: it keeps its
 * connections saturated, so its p99 measures how the server's one core is
 * shared out, not how long a request waits. Here requests are due at a fixed
 * rate whatever the server does; a request that finds no idle connection
 * waits, and its latency counts from when it was due (no coordinated
 * omission), so a stalled server shows up in full.
 *
 * Usage (as a child process, so the harness's own work cannot delay it):
 *   node dist/bench/paced-load.js <url> <rate per s> <duration s> <connections> [<zipf host count> <host pattern with {i}>]
 * Prints one JSON line: PacedLoadResult.
 */
import { connect, type Socket } from "node:net";

export interface PacedLoadResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  /** Connections closed or refused with a request in flight, and requests still unanswered at the end. */
  readonly socketErrors: number;
  /** Responses with a status outside 2xx/3xx. */
  readonly non2xx: number;
}

/** How often due requests are sent: 1 ms is the finest a Node timer goes. */
const TICK_MS = 1;
/** Requests still unanswered this long after the end count as errors. */
const DRAIN_MS = 5000;

interface Connection {
  socket: Socket;
  /** When the request in flight counts from (ms, performance.now()); undefined when idle. */
  since: number | undefined;
  buffer: Buffer;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number;
}

/** Offsets of one whole response in `buffer` (Content-Length framing only), or undefined if incomplete. */
function parseResponse(buffer: Buffer): { status: number; length: number } | undefined {
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd === -1) return undefined;
  const head = buffer.subarray(0, headEnd).toString("latin1");
  const status = Number(head.slice(9, 12));
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!lengthMatch) throw new Error(`paced-load: a response without Content-Length: ${head.split("\r\n")[0] ?? ""}`);
  const length = headEnd + 4 + Number(lengthMatch[1]);
  return buffer.byteLength >= length ? { status, length } : undefined;
}

/**
 * Hosts to spread requests over: `count` names made from `pattern` by
 * replacing `{i}` with 0 .. count - 1, host i chosen with probability
 * proportional to 1 / (i + 1) (Zipf, s = 1), as the serve bench's wrk script does.
 */
export interface ZipfHosts {
  readonly count: number;
  readonly pattern: string;
}

/** A function giving each request's bytes: the one URL's, or one per Zipf-chosen host. */
function requestChooser(url: URL, hosts: ZipfHosts | undefined): () => Buffer {
  const head = (host: string): Buffer => Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, "latin1");
  if (hosts === undefined) {
    const request = head(url.host);
    return () => request;
  }
  const requests = Array.from({ length: hosts.count }, (_, i) => head(hosts.pattern.replace("{i}", String(i))));
  const cdf: number[] = [];
  let sum = 0;
  for (let i = 0; i < hosts.count; i++) cdf.push((sum += 1 / (i + 1)));
  return () => {
    const r = Math.random() * sum;
    let lo = 0;
    let hi = hosts.count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < r) lo = mid + 1;
      else hi = mid;
    }
    return requests[lo] as Buffer;
  };
}

export function runPacedLoad(url: URL, rate: number, durationS: number, connectionCount: number, hosts?: ZipfHosts): Promise<PacedLoadResult> {
  const nextRequest = requestChooser(url, hosts);
  const port = Number(url.port || 80);
  const latencies: number[] = [];
  const backlog: number[] = [];
  let socketErrors = 0;
  let non2xx = 0;
  const idle: Connection[] = [];

  const send = (connection: Connection, since: number): void => {
    connection.since = since;
    connection.socket.write(nextRequest());
  };
  const open = (): Connection => {
    const connection: Connection = { socket: connect(port, url.hostname), since: undefined, buffer: Buffer.alloc(0) };
    connection.socket.setNoDelay(true);
    connection.socket.on("data", (chunk: Buffer) => {
      connection.buffer = connection.buffer.byteLength === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
      for (;;) {
        const response = parseResponse(connection.buffer);
        if (response === undefined) return;
        connection.buffer = connection.buffer.subarray(response.length);
        if (connection.since !== undefined) latencies.push(performance.now() - connection.since);
        if (response.status < 200 || response.status >= 400) non2xx++;
        connection.since = undefined;
        const next = backlog.shift();
        if (next !== undefined) send(connection, next);
        else idle.push(connection);
      }
    });
    let gone = false;
    // "error" and "close" both come for one loss; a closed connection is replaced while the run lasts.
    // Only a loss with a request in flight is an error: a server may close an idle keep-alive
    // connection at any time (uWS does after ~10 s), and with the idle connections taken last in,
    // first out, a few at the bottom of the stack sit idle for a whole run.
    const lost = (): void => {
      if (gone || stopped) return;
      gone = true;
      if (connection.since !== undefined) socketErrors++;
      const at = idle.indexOf(connection);
      if (at !== -1) idle.splice(at, 1);
      connection.socket.destroy();
      idle.push(open());
    };
    connection.socket.once("error", lost);
    connection.socket.once("close", lost);
    return connection;
  };

  let stopped = false;
  for (let i = 0; i < connectionCount; i++) idle.push(open());
  const start = performance.now();
  const end = start + durationS * 1000;
  let due = 0;
  return new Promise((resolve) => {
    const ticker = setInterval(() => {
      const now = performance.now();
      const target = Math.min(now, end);
      // Every request due by now goes out; with no idle connection it waits, counted from when it was due.
      while (start + (due * 1000) / rate <= target) {
        const dueAt = start + (due * 1000) / rate;
        due++;
        const connection = idle.pop();
        // Sent from an idle connection, it counts from now: a late tick is this process's delay, not the server's.
        if (connection) send(connection, now);
        else backlog.push(dueAt);
      }
      if (now < end) return;
      clearInterval(ticker);
      const finish = (): void => {
        stopped = true;
        const unanswered = backlog.length + (connectionCount - idle.length);
        const sorted = latencies.sort((a, b) => a - b);
        resolve({
          requests: latencies.length,
          requestsPerSec: latencies.length / durationS,
          latencyP50Ms: percentile(sorted, 0.5),
          latencyP99Ms: percentile(sorted, 0.99),
          latencyMaxMs: sorted[sorted.length - 1] ?? 0,
          socketErrors: socketErrors + unanswered,
          non2xx,
        });
        for (const connection of idle) connection.socket.destroy();
      };
      const drainEnd = performance.now() + DRAIN_MS;
      const wait = setInterval(() => {
        if ((idle.length === connectionCount && backlog.length === 0) || performance.now() > drainEnd) {
          clearInterval(wait);
          finish();
        }
      }, 10);
    }, TICK_MS);
  });
}

// Run as a script: print the result as one JSON line.
if (process.argv[1]?.endsWith("paced-load.js") === true) {
  const [url, rate, durationS, connections, zipfCount, zipfPattern] = process.argv.slice(2);
  if (url === undefined || rate === undefined || durationS === undefined || connections === undefined || (zipfCount !== undefined && zipfPattern === undefined)) {
    process.stderr.write("usage: node dist/bench/paced-load.js <url> <rate per s> <duration s> <connections> [<zipf host count> <host pattern with {i}>]\n");
    process.exit(2);
  }
  const hosts = zipfCount === undefined ? undefined : { count: Number(zipfCount), pattern: zipfPattern as string };
  const result = await runPacedLoad(new URL(url), Number(rate), Number(durationS), Number(connections), hosts);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
