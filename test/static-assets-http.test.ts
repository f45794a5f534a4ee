import { renameSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { headValues, rawExchange } from "./helpers/raw-head.js";
import { APP_MARKER, send, withAssetServer } from "./helpers/with-asset-server.js";

const TYPES: ReadonlyArray<readonly [string, string]> = [
  ["a.html", "text/html; charset=utf-8"],
  ["a.css", "text/css; charset=utf-8"],
  ["a.js", "text/javascript; charset=utf-8"],
  ["a.mjs", "text/javascript; charset=utf-8"],
  ["a.json", "application/json; charset=utf-8"],
  ["a.map", "application/json; charset=utf-8"],
  ["a.svg", "image/svg+xml; charset=utf-8"],
  ["a.txt", "text/plain; charset=utf-8"],
  ["a.xml", "application/xml; charset=utf-8"],
  ["a.png", "image/png"],
  ["a.jpg", "image/jpeg"],
  ["a.gif", "image/gif"],
  ["a.webp", "image/webp"],
  ["a.avif", "image/avif"],
  ["a.ico", "image/x-icon"],
  ["a.woff", "font/woff"],
  ["a.woff2", "font/woff2"],
  ["a.wasm", "application/wasm"],
  ["a.pdf", "application/pdf"],
  ["a.mp4", "video/mp4"],
  ["a.webm", "video/webm"],
  ["UPPER.PNG", "image/png"],
  ["a.unknown", "application/octet-stream"],
  ["no-extension", "application/octet-stream"],
  ["dir.v2/file", "application/octet-stream"],
];

const TEXT = "0123456789abcdefghij";
const ASSETS = { "a.txt": TEXT, "index.html": "<h1>home</h1>", "docs/index.html": "<h1>docs</h1>", "style.css": "body{}" };

test("static assets: each file is served with the content type of its extension and the default headers", async (t) => {
  const assets = Object.fromEntries(TYPES.map(([name]) => [name, `contents of ${name}`]));
  await withAssetServer(t, { assets }, async ({ port }) => {
    for (const [name, type] of TYPES) {
      const reply = await send(port, `/${name}`);
      t.is(reply.status, 200, name);
      t.is(reply.headers["content-type"], type, name);
      t.is(reply.body.toString(), `contents of ${name}`, name);
      t.is(reply.headers["content-length"], String(`contents of ${name}`.length), name);
      t.is(reply.headers[APP_MARKER], undefined, name);
    }
    const reply = await send(port, "/a.txt");
    t.is(reply.headers["cache-control"], "public, max-age=0, must-revalidate");
    t.is(reply.headers["accept-ranges"], "bytes");
    t.is(reply.headers["x-content-type-options"], "nosniff");
    t.regex(reply.headers.etag as string, /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    t.regex(reply.headers["last-modified"] as string, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
});

test("static assets: / and /docs/ are answered with their index.html; /docs and a missing dir go to the app", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const home = await send(port, "/");
    t.is(home.status, 200);
    t.is(home.body.toString(), "<h1>home</h1>");
    t.is(home.headers["content-type"], "text/html; charset=utf-8");
    t.is((await send(port, "/docs/")).body.toString(), "<h1>docs</h1>");
    t.is((await send(port, "/docs/index.html")).body.toString(), "<h1>docs</h1>");
    t.is((await send(port, "/docs")).body.toString(), "app GET /docs");
    t.is((await send(port, "/missing/")).body.toString(), "app GET /missing/");
  });
});

test("static assets: no file, or a method other than GET and HEAD, falls back to the app", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const missing = await send(port, "/nope.css?x=1");
    t.is(missing.status, 200);
    t.is(missing.headers[APP_MARKER], "1");
    t.is(missing.body.toString(), "app GET /nope.css");
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      t.is((await send(port, "/style.css", { method })).body.toString(), `app ${method} /style.css`, method);
    }
  });
});

test("static assets: If-None-Match with the ETag (strong, weak or *) gives 304 without a body; another tag gives 200", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const first = await send(port, "/style.css");
    const etag = first.headers.etag as string;
    for (const value of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const reply = await send(port, "/style.css", { headers: { "if-none-match": value } });
      t.is(reply.status, 304, value);
      t.is(reply.body.length, 0, value);
      t.is(reply.headers.etag, etag, value);
      t.is(reply.headers["content-length"], undefined, value);
      t.is(reply.headers["cache-control"], "public, max-age=0, must-revalidate", value);
    }
    const other = await send(port, "/style.css", { headers: { "if-none-match": '"nope"' } });
    t.is(other.status, 200);
    t.is(other.body.toString(), "body{}");
  });
});

test("static assets: a file changed in size, in mtime only, or replaced by another inode gets a new ETag; the old one no longer gives 304", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port, assetsDir }) => {
    const path = join(assetsDir, "style.css");
    const revalidate = async (etag: string, body: string): Promise<string> => {
      const reply = await send(port, "/style.css", { headers: { "if-none-match": etag } });
      t.is(reply.status, 200);
      t.is(reply.body.toString(), body);
      t.not(reply.headers.etag, etag);
      return reply.headers.etag as string;
    };
    let etag = (await send(port, "/style.css")).headers.etag as string;
    writeFileSync(path, "body{color:red}");
    etag = await revalidate(etag, "body{color:red}");
    const mtime = new Date("2024-01-01T00:00:00Z");
    utimesSync(path, mtime, mtime);
    etag = (await send(port, "/style.css")).headers.etag as string;
    // Same size, other bytes, a later mtime.
    writeFileSync(path, "body{color:tan}");
    utimesSync(path, new Date("2024-01-02T00:00:00Z"), new Date("2024-01-02T00:00:00Z"));
    etag = await revalidate(etag, "body{color:tan}");
    // Same size and mtime, another file renamed over it (a deploy).
    writeFileSync(`${path}.new`, "body{color:red}");
    utimesSync(`${path}.new`, new Date("2024-01-02T00:00:00Z"), new Date("2024-01-02T00:00:00Z"));
    renameSync(`${path}.new`, path);
    await revalidate(etag, "body{color:red}");
  });
});

test("static assets: If-Modified-Since at or after Last-Modified gives 304, before it 200; If-None-Match wins over it", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port, assetsDir }) => {
    const mtime = new Date("2024-03-01T12:00:00.500Z");
    utimesSync(join(assetsDir, "style.css"), mtime, mtime);
    const first = await send(port, "/style.css");
    t.is(first.headers["last-modified"], "Fri, 01 Mar 2024 12:00:00 GMT");
    const at = await send(port, "/style.css", { headers: { "if-modified-since": "Fri, 01 Mar 2024 12:00:00 GMT" } });
    t.is(at.status, 304);
    t.is(at.body.length, 0);
    t.is((await send(port, "/style.css", { headers: { "if-modified-since": "Sat, 02 Mar 2024 00:00:00 GMT" } })).status, 304);
    t.is((await send(port, "/style.css", { headers: { "if-modified-since": "Fri, 01 Mar 2024 11:59:59 GMT" } })).status, 200);
    t.is((await send(port, "/style.css", { headers: { "if-modified-since": "not a date" } })).status, 200);
    const both = await send(port, "/style.css", { headers: { "if-modified-since": "Sat, 02 Mar 2024 00:00:00 GMT", "if-none-match": '"other"' } });
    t.is(both.status, 200);
  });
});

test("static assets: If-Match that does not hold, or If-Unmodified-Since before the change, gives 412", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const etag = (await send(port, "/a.txt")).headers.etag as string;
    t.is((await send(port, "/a.txt", { headers: { "if-match": '"other"' } })).status, 412);
    t.is((await send(port, "/a.txt", { headers: { "if-match": `W/${etag}` } })).status, 412, "If-Match compares strongly");
    t.is((await send(port, "/a.txt", { headers: { "if-match": etag } })).status, 200);
    t.is((await send(port, "/a.txt", { headers: { "if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT" } })).status, 412);
    t.is((await send(port, "/a.txt", { headers: { "if-unmodified-since": new Date(Date.now() + 60_000).toUTCString() } })).status, 200);
  });
});

test("static assets: single byte ranges give 206 with Content-Range and exactly those bytes", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const cases: ReadonlyArray<readonly [string, number, number]> = [
      ["bytes=0-4", 0, 4],
      ["bytes=5-", 5, 19],
      ["bytes=-3", 17, 19],
      ["bytes=-100", 0, 19],
      ["bytes=10-999999999999999999999", 10, 19],
      ["BYTES=19-19", 19, 19],
    ];
    for (const [range, start, end] of cases) {
      const reply = await send(port, "/a.txt", { headers: { range } });
      t.is(reply.status, 206, range);
      t.is(reply.headers["content-range"], `bytes ${start}-${end}/20`, range);
      t.is(reply.headers["content-length"], String(end - start + 1), range);
      t.is(reply.headers["content-type"], "text/plain; charset=utf-8", range);
      t.is(reply.body.toString(), TEXT.slice(start, end + 1), range);
    }
  });
});

test("static assets: an unsatisfiable range gives 416 with Content-Range bytes */size; malformed and multiple ranges give the full 200", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    for (const range of ["bytes=20-", "bytes=20-30", "bytes=-0"]) {
      const reply = await send(port, "/a.txt", { headers: { range } });
      t.is(reply.status, 416, range);
      t.is(reply.headers["content-range"], "bytes */20", range);
      t.is(reply.body.length, 0, range);
    }
    for (const range of ["bytes=0-1,5-6", "bytes=5-2", "bytes=-", "items=0-1", "bytes=a-b", "bytes 0-1"]) {
      const reply = await send(port, "/a.txt", { headers: { range } });
      t.is(reply.status, 200, range);
      t.is(reply.headers["content-range"], undefined, range);
      t.is(reply.body.toString(), TEXT, range);
    }
  });
});

test("static assets: If-Range honours the range only for our strong ETag or exact Last-Modified", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const first = await send(port, "/a.txt");
    const etag = first.headers.etag as string;
    const lastModified = first.headers["last-modified"] as string;
    const ranged = (ifRange: string) => send(port, "/a.txt", { headers: { range: "bytes=0-1", "if-range": ifRange } });
    t.is((await ranged(etag)).status, 206);
    t.is((await ranged(lastModified)).status, 206);
    for (const stale of ['"other"', `W/${etag}`, "Thu, 01 Jan 1970 00:00:00 GMT", "garbage"]) {
      const reply = await ranged(stale);
      t.is(reply.status, 200, stale);
      t.is(reply.body.toString(), TEXT, stale);
    }
  });
});

test("static assets: HEAD gets the GET headers with Content-Length and no body bytes on the wire; Range is ignored for HEAD", async (t) => {
  await withAssetServer(t, { assets: ASSETS }, async ({ port }) => {
    const head = await rawExchange(port, "HEAD", "/a.txt");
    t.is(head.statusLine, "HTTP/1.1 200 OK");
    t.deepEqual(headValues(head, "content-length"), ["20"]);
    t.deepEqual(headValues(head, "content-type"), ["text/plain; charset=utf-8"]);
    t.is(headValues(head, "etag").length, 1);
    t.is(head.bodyBytes, 0);
    const ranged = await send(port, "/a.txt", { method: "HEAD", headers: { range: "bytes=0-1" } });
    t.is(ranged.status, 200);
    t.is(ranged.headers["content-length"], "20");
    t.is(ranged.headers["content-range"], undefined);
    const index = await rawExchange(port, "HEAD", "/");
    t.deepEqual(headValues(index, "content-length"), ["13"]);
    t.is(index.bodyBytes, 0);
  });
});
