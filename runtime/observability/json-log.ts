import { pino, type DestinationStream, type Logger } from "pino";
import { isFailpointOn } from "../../sandbox/failpoints.js";
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
/** Log bytes queued for a stdout that is not read fast enough; past this, records are dropped (and counted). 64 KiB with the `log-small-queue` failpoint. */
const MAX_QUEUED_BYTES = isFailpointOn("log-small-queue") ? 64 * 1024 : 32 * 1024 * 1024;
/** How long flushSync (before an abort, at exit) keeps trying a full pipe. */
const FLUSH_SYNC_DEADLINE_MS = 1000;

/** Where LogLines writes: anything with write(); the default stdout sink also has flushSync. */
export interface LogSinkStream {
  write(chunk: string): unknown;
  flushSync?(): void;
}

/**
 * stdout without blocking the event loop: sonic-boom's asynchronous mode
 * (pino's own destination). Its synchronous mode, used before, retries a
 * full pipe (EAGAIN) by sleeping the thread 100 ms at a time, so a log
 * reader that fell behind stalled every tenant of the front end. Queued
 * bytes are bounded; past the bound, records are dropped and counted.
 * flushSync() writes what is queued, trying a full pipe for at most a
 * second (an abort must not hang on a dead reader).
 */
function stdoutSink(onDrop: (bytes: number) => void): LogSinkStream {
  let flushDeadline = 0;
  const destination = pino.destination({
    dest: 1,
    sync: false,
    maxLength: MAX_QUEUED_BYTES,
    // Asynchronous writes retry a full pipe on a timer; flushSync gives up at its deadline.
    retryEAGAIN: () => flushDeadline === 0 || Date.now() < flushDeadline,
  });
  destination.on("drop", (data: unknown) => onDrop(Buffer.byteLength(String(data))));
  return {
    write: (chunk) => destination.write(chunk),
    flushSync: () => {
      flushDeadline = Date.now() + FLUSH_SYNC_DEADLINE_MS;
      try {
        destination.flushSync();
      } catch {
        // The reader is gone or stuck: what is left is lost, as the process is going anyway.
      } finally {
        flushDeadline = 0;
      }
    },
  };
}

/**
 * stdout for the JSON log. Request records (one per request, the bulk of
 * it) are buffered and handed on once per turn of the event loop, in one
 * write; every other record (console lines, warnings, errors: pino's)
 * is handed on at once, after whatever is buffered, so the order is kept.
 * Measured on one core with stdout a pipe: pino's sync write per record
 * ~4.5 us, a hand-built record buffered per turn ~1.2 us. stdout itself is
 * written without blocking (stdoutSink); whoever aborts calls flushSync()
 * first. A fatal V8 error on the front end's thread can still lose the
 * records of the last turn or two (they are written a turn after their
 * response anyway, see HttpServer).
 */
export class LogLines implements DestinationStream {
  readonly #sink: LogSinkStream;
  #buffered = "";
  #isScheduled = false;
  /** Bytes stdout dropped since the last report of a drop. */
  #unreportedDropBytes = 0;

  /** @param sink where lines go (default: stdout, without blocking; see stdoutSink). */
  constructor(sink?: LogSinkStream) {
    if (sink === undefined) {
      this.#sink = stdoutSink((bytes) => {
        this.#unreportedDropBytes += bytes;
      });
      process.once("exit", () => this.flushSync());
    } else this.#sink = sink;
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

  /** Hand what is buffered to the sink (stdout queues it without blocking). */
  flush(): void {
    if (this.#unreportedDropBytes > 0) {
      // Said once the queue takes records again, so an operator sees the gap.
      const dropped = this.#unreportedDropBytes;
      this.#unreportedDropBytes = 0;
      this.#buffered = `${JSON.stringify({ level: "warn", time: Date.now(), pid: process.pid, msg: `${dropped} bytes of log records dropped: stdout was not read fast enough` })}\n${this.#buffered}`;
    }
    if (this.#buffered === "") return;
    const chunk = this.#buffered;
    this.#buffered = "";
    this.#sink.write(chunk);
  }

  /** Write out everything, now (before an abort, at exit): bounded if stdout is full. */
  flushSync(): void {
    this.flush();
    this.#sink.flushSync?.();
  }
}

/**
 * The JSON logger of `edgehost serve`: one JSON object per line on `lines`,
 * levels by name (`"level":"warn"`, easier to filter than pino's numbers).
 * Its records are handed to `lines` at once (not batched as request
 * records are): a front end may `process.abort()` after a catastrophic
 * isolate failure, and the lines before it matter most.
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
