import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { assetRelativePath } from "../runtime/front-end/asset-path.js";
import { byteRange } from "../runtime/front-end/byte-range.js";
import { FILE_CHUNK_BYTES, FileBody } from "../runtime/front-end/file-body.js";
import { StaticAssets } from "../runtime/front-end/static-assets.js";

async function withDir<T>(files: Record<string, string | Buffer>, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "edgehost-assets-unit-"));
  try {
    for (const [name, contents] of Object.entries(files)) writeFileSync(join(dir, name), contents);
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("asset path: request pathnames map to decoded relative names, index.html for directories", (t) => {
  t.is(assetRelativePath("/"), "index.html");
  t.is(assetRelativePath("/docs/"), "docs/index.html");
  t.is(assetRelativePath("/a%20b/c.txt"), "a b/c.txt");
  t.is(assetRelativePath("/100%25.txt"), "100%.txt");
  t.is(assetRelativePath("/%252e%252e"), "%2e%2e");
  t.is(assetRelativePath("/.well-known/security.txt"), ".well-known/security.txt");
  for (const refused of ["/.well-known", "/.env", "/a/../b", "/..%2fb", "/a%5cb", "/a\\b", "/a%00", "/a%0ab", "//a", "/a//b", "/%e0%a4%a", "a"]) {
    t.is(assetRelativePath(refused), undefined, refused);
  }
});

test("byte range: an empty file ignores Range; an inverted range is ignored rather than served", (t) => {
  t.deepEqual(byteRange("bytes=0-", 0), { kind: "full" });
  t.deepEqual(byteRange("bytes=-5", 0), { kind: "full" });
  t.deepEqual(byteRange("bytes=5-2", 10), { kind: "full" });
  t.deepEqual(byteRange(" bytes=2-3 ", 10), { kind: "partial", start: 2, end: 3 });
  t.deepEqual(byteRange(undefined, 10), { kind: "full" });
});

test("static assets: lookup itself answers only GET and HEAD", async (t) => {
  await withDir({ "a.txt": "a" }, async (dir) => {
    const assets = await StaticAssets.open(dir);
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "get"]) t.is(await assets.lookup(method, "/a.txt", []), undefined, method);
    const head = await assets.lookup("HEAD", "/a.txt", []);
    t.is(head?.status, 200);
    t.is(head?.body?.length, 1);
    head?.body?.cancel();
  });
});

test("file body: reads its range in chunks of at most FILE_CHUNK_BYTES and closes the file after the last", async (t) => {
  const data = randomBytes(3 * FILE_CHUNK_BYTES + 100);
  await withDir({ "f.bin": data }, async (dir) => {
    const file = await open(join(dir, "f.bin"));
    const body = new FileBody(file, 10, data.length - 5);
    t.is(body.length, data.length - 15);
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    t.true(chunks.every((chunk) => chunk.byteLength <= FILE_CHUNK_BYTES));
    t.deepEqual(Buffer.concat(chunks), data.subarray(10, data.length - 5));
    // Closed: a FileHandle's fd is -1 once closed.
    t.is(file.fd, -1);
    t.is(await body.pull(), null);
  });
});

test("file body: cancel closes the file, also while a read is in flight, and later pulls reject", async (t) => {
  await withDir({ "f.bin": randomBytes(4 * FILE_CHUNK_BYTES) }, async (dir) => {
    const file = await open(join(dir, "f.bin"));
    const body = new FileBody(file, 0, 4 * FILE_CHUNK_BYTES);
    t.is((await body.pull())?.byteLength, FILE_CHUNK_BYTES);
    const inFlight = body.pull();
    body.cancel();
    const error = await t.throwsAsync(inFlight);
    t.is((error as Error & { code?: string }).code, "EDGE_RUNTIME_ASSET_READ_FAILED");
    t.is(file.fd, -1);
    await t.throwsAsync(body.pull());
  });
});
