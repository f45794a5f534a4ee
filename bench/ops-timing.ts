/**
 * Timing one op from outside the server: the wall time of `GET /op/X?n=N`
 * minus that of `?n=0`. workerd's clock (Date.now, performance.now) stands
 * still during pure computation, a Spectre mitigation, so neither runtime's
 * own clock is used.
 */
import { Agent, request } from "node:http";
import { median } from "./stats.js";

/** One timed answer of the ops app. */
export interface OpAnswer {
  readonly ms: number;
  readonly checksum: number;
}

/** Longest one op request may take (a calibrated run is ~150 ms; a first run may load code). */
const REQUEST_TIMEOUT_MS = 60_000;
/** Calibration stops growing n once a run takes this long more than n=0. */
const CALIBRATION_MIN_MS = 30;
/** Time an op runs before it is measured (warm-up and calibration together). */
const WARMUP_MS = 600;
/** Largest n ever asked for: a runaway calibration must not ask for hours of work. */
const MAX_N = 50_000_000;

/** A client for one server: one kept-alive connection, so that connection set-up is not in the times. */
export class OpsClient {
  readonly #origin: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(origin: string) {
    this.#origin = origin;
  }

  /** GET `path` and return its status and body text. Rejects on a connection error or after the timeout. */
  get(path: string): Promise<{ status: number; body: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const outgoing = request(`${this.#origin}${path}`, { agent: this.#agent, timeout: REQUEST_TIMEOUT_MS }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.once("end", () => resolve({ status: response.statusCode ?? 0, body, ms: performance.now() - startedAt }));
        response.once("error", reject);
      });
      outgoing.once("timeout", () => outgoing.destroy(new Error(`GET ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      outgoing.once("error", reject);
      outgoing.end();
    });
  }

  /** Run `op` `n` times; rejects unless the app answers 200 with its checksum. */
  async run(op: string, n: number): Promise<OpAnswer> {
    const answer = await this.get(`/op/${op}?n=${n}`);
    if (answer.status !== 200) throw new Error(`GET /op/${op}?n=${n} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    const { checksum } = JSON.parse(answer.body) as { checksum?: unknown };
    if (typeof checksum !== "number") throw new Error(`GET /op/${op}?n=${n}: no checksum in ${answer.body.slice(0, 200)}`);
    return { ms: answer.ms, checksum };
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** `value` rounded to two significant digits, and up to a multiple of `unit`. */
function roundN(value: number, unit: number): number {
  const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(value, 1))) - 1);
  const rounded = Math.max(1, Math.round(value / magnitude) * magnitude);
  return Math.max(unit, Math.ceil(rounded / unit) * unit);
}

/**
 * The n for which one run of `op` takes about `targetMs` more than n=0,
 * after a warm-up: the first runs of an op are slower (bytecode, then
 * optimised code; lazily loaded modules), so n grows until a run is clearly
 * longer than the empty request, and runs go on at that n until the op has
 * run for WARMUP_MS in all; the median of the last three runs sets n.
 * `unit` is the op's cycle (the URL op walks 869 inputs): n is a multiple
 * of it, so that every contender runs the same mix.
 */
export async function calibrate(client: OpsClient, op: string, targetMs: number, unit: number): Promise<number> {
  const emptyMs = median([(await client.run(op, 0)).ms, (await client.run(op, 0)).ms, (await client.run(op, 0)).ms]);
  let n = unit;
  let totalMs = 0;
  const recent: number[] = [];
  for (;;) {
    const spentMs = (await client.run(op, n)).ms - emptyMs;
    totalMs += Math.max(spentMs, 0);
    if (spentMs < CALIBRATION_MIN_MS && n < MAX_N) {
      // Aim for a little past the minimum; never grow more than 16x at once.
      n = Math.min(MAX_N, Math.ceil(n * Math.min(16, Math.max(2, (2 * CALIBRATION_MIN_MS) / Math.max(spentMs, 0.5)))));
      recent.length = 0;
      continue;
    }
    recent.push(spentMs);
    if (totalMs >= WARMUP_MS && recent.length >= 3) {
      return Math.min(MAX_N, roundN((n * targetMs) / Math.max(median(recent.slice(-3)), 1), unit));
    }
  }
}
