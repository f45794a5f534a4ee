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

/**
 * The JSON logger of `edgehost serve`: one JSON object per line on stdout,
 * levels by name (`"level":"warn"`, easier to filter than pino's numbers).
 * Writes are synchronous: a front end may `process.abort()` after a
 * catastrophic isolate failure, and the lines before it matter most.
 */
export function jsonLogger(destination: DestinationStream = pino.destination({ dest: 1, sync: true })): Logger {
  return pino(
    {
      level: "debug",
      base: { pid: process.pid },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
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
 * and tokens.
 */
export function requestLog(logger: Logger): RequestObserver {
  return {
    cpu: () => undefined,
    finished: (request: FinishedRequest) => {
      logger.info(
        {
          app: request.app ?? null,
          requestId: request.requestId,
          method: request.method,
          path: request.path,
          status: request.status,
          durationMs: round(request.durationMs),
          cpuMs: round(request.cpuMs),
          ...(request.error === undefined ? {} : { error: request.error }),
        },
        "request",
      );
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
