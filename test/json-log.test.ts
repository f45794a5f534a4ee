import test from "ava";
import { jsonLogger, jsonSink, LogLines, requestLog } from "../runtime/observability/json-log.js";

/** A LogLines writing into an array, one entry per write. */
function collected(): { lines: LogLines; writes: string[] } {
  const writes: string[] = [];
  return { lines: new LogLines({ write: (chunk: string) => writes.push(chunk) }), writes };
}

const finished = { app: "beta", requestId: "r-1", method: "GET", path: "/a", status: 200, durationMs: 1.23456, cpuMs: 0.5, error: undefined };

test("json log: request records wait for the end of the turn and go out in one write", async (t) => {
  const { lines, writes } = collected();
  const observer = requestLog(lines);
  observer.finished(finished);
  observer.finished({ ...finished, requestId: "r-2" });
  t.deepEqual(writes, []);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(writes.length, 1);
  const records = (writes[0] as string).trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  t.deepEqual(records.map((record) => record.requestId), ["r-1", "r-2"]);
  t.like(records[0], { level: "info", pid: process.pid, app: "beta", method: "GET", path: "/a", status: 200, durationMs: 1.235, cpuMs: 0.5, msg: "request" });
  t.is(typeof records[0]?.time, "number");
  t.false("error" in (records[0] as object));
});

test("json log: a pino record is written at once, after the request records buffered before it", (t) => {
  const { lines, writes } = collected();
  requestLog(lines).finished(finished);
  jsonSink(jsonLogger(lines))({ level: "error", app: "beta", message: "boom" });
  t.is(writes.length, 1);
  const [request, error] = (writes[0] as string).trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  t.like(request, { msg: "request" });
  t.like(error, { level: "error", app: "beta", msg: "boom", pid: process.pid });
});

test("json log: a request path or error with quotes and line breaks stays one record; an unrouted request has app null", (t) => {
  const { lines, writes } = collected();
  requestLog(lines).finished({ ...finished, app: undefined, path: '/x","status":1}\n{"forged":"', error: "no_route", status: 404 });
  lines.flush();
  const text = writes.join("");
  t.is(text.split("\n").length, 2, "one line and the final newline");
  t.like(JSON.parse(text) as Record<string, unknown>, { app: null, path: '/x","status":1}\n{"forged":"', status: 404, error: "no_route" });
});

test("json log: past 64 KiB buffered, request records are written without waiting for the turn to end", (t) => {
  const { lines, writes } = collected();
  const observer = requestLog(lines);
  for (let i = 0; i < 1000; i++) observer.finished({ ...finished, path: `/${"p".repeat(100)}` });
  t.true(writes.length >= 1);
  lines.flush();
  t.is(writes.join("").trimEnd().split("\n").length, 1000);
});
