import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel, LogSink } from "../logger.js";
import type { FinishedRequest, RequestObserver } from "../request-observer.js";

/** Our levels on pino's: console's `log` is pino's `info`. */
const PINO_LEVEL: Readonly<Record<LogLevel, "debug" | "info" | "warn" | "error">> = {
  debug: "debug",
  log: "info",
  info: "info",
  warn: "warn",
  error: "error",
};

/** Buffered request records are written once they reach this many characters, if the turn has not ended first. */
const MAX_BUFFERED_CHARS = 64 * 1024;

/**
 * stdout for the JSON log. Request records (one per request, the bulk of
 * it) are buffered and written once per turn of the event loop, in one
 * write; every other record (console lines, warnings, errors: pino's)
 * is written at once, after whatever is buffered, so the order is kept and
 * the lines before a `process.abort()` are out. Measured on one core with
 * stdout a pipe: pino's sync write per record ~4.5 us, a hand-built record
 * buffered per turn ~1.2 us. Whoever aborts calls flush() first; a fatal
 * V8 error on the front end's thread can still lose the records of the
 * last turn or two (they are written a turn after their response anyway,
 * see HttpServer).
 */
export class LogLines implements DestinationStream {
  readonly #sink: { write(chunk: string): unknown };
  #buffered = "";
  #isScheduled = false;

  /** @param sink where lines go, written synchronously (default: stdout, pino's sync destination, which retries EAGAIN). */
  constructor(sink: { write(chunk: string): unknown } = pino.destination({ dest: 1, sync: true })) {
    this.#sink = sink;
  }

  /** A record that must be out now (pino calls this): written after the buffered ones. */
  write(line: string): void {
    this.#buffered += line;
    this.flush();
  }

  /** A record that may wait for the end of this turn of the event loop. */
  append(line: string): void {
    this.#buffered += line;
    if (this.#buffered.length >= MAX_BUFFERED_CHARS) this.flush();
    else if (!this.#isScheduled) {
      this.#isScheduled = true;
      setImmediate(() => {
        this.#isScheduled = false;
        this.flush();
      });
    }
  }

  /** Write what is buffered, synchronously. */
  flush(): void {
    if (this.#buffered === "") return;
    const chunk = this.#buffered;
    this.#buffered = "";
    this.#sink.write(chunk);
  }
}

/**
 * The JSON logger of `edgehost serve`: one JSON object per line on `lines`,
 * levels by name (`"level":"warn"`, easier to filter than pino's numbers).
 * Its records are written synchronously: a front end may `process.abort()`
 * after a catastrophic isolate failure, and the lines before it matter most.
 */
export function jsonLogger(lines: DestinationStream = new LogLines()): Logger {
  return pino(
    {
      level: "debug",
      base: { pid: process.pid },
      formatters: { level: (label) => ({ level: label }) },
    },
    lines,
  );
}

/**
 * The server's LogSink as JSON records. Tenant text is only ever a string
 * value here (JSON escapes it), so no console output can forge a record;
 * the app name and request id are fields, not text to parse.
 */
export function jsonSink(logger: Logger): LogSink {
  return (line) => {
    const fields: Record<string, string> = {};
    if (line.app) fields.app = line.app;
    if (line.requestId) fields.requestId = line.requestId;
    if (line.source !== undefined) fields.source = line.source;
    logger[PINO_LEVEL[line.level]](fields, line.message);
  };
}

/**
 * One `"msg":"request"` record per request: app, request id, method, path
 * (no query), status, duration and CPU ms. No headers: they carry cookies
 * and tokens. The same record pino would write (level, time, pid first),
 * built by hand: every string from the request goes through JSON.stringify,
 * so a path cannot forge a field or a line.
 */
export function requestLog(lines: LogLines): RequestObserver {
  const prefix = `{"level":"info","time":`;
  const pid = `,"pid":${process.pid}`;
  return {
    cpu: () => undefined,
    finished: (request: FinishedRequest) => {
      const error = request.error === undefined ? "" : `,"error":${JSON.stringify(request.error)}`;
      lines.append(
        `${prefix}${Date.now()}${pid},"app":${request.app === undefined ? "null" : JSON.stringify(request.app)},"requestId":${JSON.stringify(request.requestId)},` +
          `"method":${JSON.stringify(request.method)},"path":${JSON.stringify(request.path)},"status":${jsonNumber(request.status)},` +
          `"durationMs":${jsonNumber(round(request.durationMs))},"cpuMs":${jsonNumber(round(request.cpuMs))}${error},"msg":"request"}\n`,
      );
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : "null";
}
