import anyTest, { type TestFn } from "ava";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { REPO_ROOT, startEdgehost, type RunningEdgehost } from "./helpers/edgehost-process.js";
import { headValues, rawExchange } from "./helpers/raw-head.js";

/** End to end over HTTP: multipart uploads, HEAD framing, reason phrases, redirect mode, structuredClone. */

const test = anyTest as TestFn<{ server: RunningEdgehost }>;
const APP = join(REPO_ROOT, "test/fixtures/web-platform/app.ts");

test.before(async (t) => {
  t.context.server = await startEdgehost(APP);
});

test.after.always(async (t) => {
  await t.context.server?.stop();
});

test("run: a multipart upload built by Node's FormData is read with request.formData()", async (t) => {
  const content = new Uint8Array(300_000);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7 + (i >> 8)) & 0xff;
  const form = new FormData();
  form.append("title", "Quarterly ☃ report");
  form.append("file", new Blob([content], { type: "application/x-custom" }), "report final.bin");
  form.append("tag", "a");
  form.append("tag", "b\r\nc");
  const response = await fetch(`${t.context.server.url}/upload`, { method: "POST", body: form });
  t.is(response.status, 200);
  t.deepEqual(await response.json(), {
    name: "report final.bin",
    size: 300_000,
    type: "application/x-custom",
    sha256: createHash("sha256").update(content).digest("hex"),
    fields: { title: ["Quarterly ☃ report"], tag: ["a", "b\r\nc"] },
  });
});

test("run: a malformed multipart body makes formData() reject, answered 500", async (t) => {
  const response = await fetch(`${t.context.server.url}/upload`, {
    method: "POST",
    headers: { "content-type": "multipart/form-data; boundary=zzz" },
    body: "--zzz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno closing boundary",
  });
  t.is(response.status, 500);
});

test("run: a FormData body with a File round-trips through Response.formData; a lone LF in a value becomes CRLF", async (t) => {
  const response = await fetch(`${t.context.server.url}/form-echo?greeting=hello%0Aworld`);
  t.deepEqual(await response.json(), { greeting: "hello\r\nworld", doc: ["doc.html", "text/html", "<b>bold</b>"] });
});

test("run: HEAD carries the GET body's Content-Length and no body", async (t) => {
  const head = await rawExchange(t.context.server.port, "HEAD", "/");
  t.is(head.statusLine, "HTTP/1.1 200 OK");
  t.deepEqual(headValues(head, "content-length"), ["10"]);
  t.is(head.bodyBytes, 0);
});

test("run: HEAD to a null-body response carries no invented content-length: 0", async (t) => {
  const head = await rawExchange(t.context.server.port, "HEAD", "/no-body");
  t.deepEqual([head.statusLine, headValues(head, "content-length"), headValues(head, "x-kind"), head.bodyBytes], ["HTTP/1.1 200 OK", [], ["none"], 0]);
  const get = await rawExchange(t.context.server.port, "GET", "/no-body");
  t.deepEqual(headValues(get, "content-length"), ["0"]);
});

test("run: HEAD to an empty-string body says content-length: 0, as GET does", async (t) => {
  const head = await rawExchange(t.context.server.port, "HEAD", "/empty-body");
  t.deepEqual([headValues(head, "content-length"), head.bodyBytes], [["0"], 0]);
});

test("run: 418 goes out as I'm a teapot", async (t) => {
  const get = await rawExchange(t.context.server.port, "GET", "/teapot");
  t.is(get.statusLine, "HTTP/1.1 418 I'm a teapot");
});

test("run: the incoming request's redirect mode is manual", async (t) => {
  const response = await fetch(`${t.context.server.url}/redirect-mode`);
  t.is(await response.text(), "manual");
});

test("run: structuredClone transfer detaches the source; uncloneables throw DataCloneError", async (t) => {
  const transfer = await fetch(`${t.context.server.url}/clone-transfer`);
  t.deepEqual(await transfer.json(), { sourceLength: 0, copy: [9, 8, 7] });
  const errors = await fetch(`${t.context.server.url}/clone-errors`);
  t.deepEqual(await errors.json(), Array(4).fill(["DataCloneError", true]));
});
