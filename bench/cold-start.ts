import { request } from "node:http";
import { createServer } from "node:net";
import { prepareContender, type BenchApp, type ContenderName } from "./contenders.js";
import { spawnServer, type ExitStatus } from "./server-process.js";

/** A port that was free a moment ago on 127.0.0.1 (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolve with the status of one GET, or reject on a connection error. */
function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent: false, timeout: 5000 }, (response) => {
      response.resume();
      response.once("end", () => resolve(response.statusCode ?? 0));
    });
    outgoing.once("timeout", () => outgoing.destroy(new Error("timeout")));
    outgoing.once("error", reject);
    outgoing.end();
  });
}

/** How long to wait between connection attempts while a server starts. */
const POLL_INTERVAL_MS = 1;

/**
 * GET `url` until it answers 200. Rejects if `exited` settles first (the
 * server died) or after `timeoutMs`.
 */
async function pollUntilOk(url: string, exited: Promise<ExitStatus>, timeoutMs: number): Promise<void> {
  let exitStatus: ExitStatus | undefined;
  void exited.then((status) => {
    exitStatus = status;
  });
  const deadline = performance.now() + timeoutMs;
  let lastFailure = "no attempt";
  while (performance.now() < deadline) {
    if (exitStatus) throw new Error(`server exited (${exitStatus.signal ?? `code ${String(exitStatus.code)}`}) before answering`);
    try {
      const status = await getStatus(url);
      if (status === 200) return;
      lastFailure = `status ${status}`;
    } catch (error) {
      lastFailure = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`no 200 from ${url} within ${timeoutMs} ms (last: ${lastFailure})`);
}

/** Options of {@link measureProcessStartMs}. */
export interface ProcessStartOptions {
  readonly pinCpu: number | undefined;
  /** Where workerd configs are written. */
  readonly tmpDir: string;
  /** Give up after this long. Default 30 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * Milliseconds from spawning `contender` serving `app` on a fresh port to
 * its first 200 response, polling every millisecond. Preparation that is
 * not the server's own start-up (writing workerd's config and bundle) is
 * done before the clock starts. The server is stopped afterwards.
 */
export async function measureProcessStartMs(contender: ContenderName, app: BenchApp, options: ProcessStartOptions): Promise<number> {
  const port = await freePort();
  const prepared = await prepareContender(contender, app, port, options.tmpDir);
  try {
    const startedAt = performance.now();
    const server = await spawnServer(prepared.spec, options.pinCpu);
    try {
      await pollUntilOk(`http://127.0.0.1:${port}${app.path}`, server.exited, options.timeoutMs ?? 30_000);
      return performance.now() - startedAt;
    } catch (error) {
      throw new Error(`${contender} ${app.name}: ${(error as Error).message}\n--- output ---\n${server.output()}`, { cause: error });
    } finally {
      await server.stop();
    }
  } finally {
    await prepared.cleanup();
  }
}
