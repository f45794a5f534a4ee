import test from "ava";
import { checkUpload, isVersionsError } from "../runtime/versions/index.js";
import type { VersionsErrorCode } from "../runtime/versions/index.js";

const REFUSED: ReadonlyArray<[string, VersionsErrorCode]> = [
  ["", "EDGE_VERSIONS_PATH_EMPTY"],
  ["/etc/passwd", "EDGE_VERSIONS_PATH_ABSOLUTE"],
  ["../x.ts", "EDGE_VERSIONS_PATH_TRAVERSAL"],
  ["a/../../x.ts", "EDGE_VERSIONS_PATH_TRAVERSAL"],
  ["a/./x.ts", "EDGE_VERSIONS_PATH_TRAVERSAL"],
  ["a//x.ts", "EDGE_VERSIONS_PATH_TRAVERSAL"],
  ["a/", "EDGE_VERSIONS_PATH_TRAVERSAL"],
  ["a\0.ts", "EDGE_VERSIONS_PATH_NUL"],
  ["a\n.ts", "EDGE_VERSIONS_PATH_CONTROL"],
  ["a\\..\\x.ts", "EDGE_VERSIONS_PATH_BACKSLASH"],
  [".env", "EDGE_VERSIONS_PATH_HIDDEN"],
  ["src/.git/config", "EDGE_VERSIONS_PATH_HIDDEN"],
  [`${"a".repeat(256)}.ts`, "EDGE_VERSIONS_PATH_TOO_LONG"],
  [`${"a/".repeat(600)}x`, "EDGE_VERSIONS_PATH_TOO_LONG"],
];

for (const [file, code] of REFUSED) {
  test(`upload paths: ${JSON.stringify(file).slice(0, 40)} is ${code}`, (t) => {
    const error = t.throws(() => checkUpload({ [file]: "x", "app.ts": "y" }));
    t.true(isVersionsError(error, code), `${String((error as { code?: unknown } | undefined)?.code)}: ${error?.message}`);
  });
}

test("upload paths: nested paths, .well-known and non-ASCII names are accepted, sorted, as bytes", (t) => {
  const files = checkUpload({ "src/app.ts": "a", ".well-known/security.txt": "b", "public/ünï.txt": new Uint8Array([1, 2]) });
  t.deepEqual(files.map((file) => file.path), [".well-known/security.txt", "public/ünï.txt", "src/app.ts"]);
  t.deepEqual([...(files[1]?.bytes ?? [])], [1, 2]);
});

test("upload paths: names differing only in case or Unicode normalisation collide, as do a file and a directory", (t) => {
  for (const files of [{ "App.ts": "a", "app.ts": "b" }, { "caf\u00e9.ts": "a", "cafe\u0301.ts": "b" }, { lib: "a", "lib/x.ts": "b" }]) {
    t.true(isVersionsError(t.throws(() => checkUpload(files)), "EDGE_VERSIONS_PATH_DUPLICATE"), Object.keys(files).join(" "));
  }
});

test("upload paths: caps on file count, per-file bytes and total bytes", (t) => {
  const limits = { maxFiles: 2, maxFileBytes: 10, maxTotalBytes: 15 };
  t.true(isVersionsError(t.throws(() => checkUpload({ a: "", b: "", c: "" }, limits)), "EDGE_VERSIONS_UPLOAD_TOO_MANY_FILES"));
  t.true(isVersionsError(t.throws(() => checkUpload({ a: "x".repeat(11) }, limits)), "EDGE_VERSIONS_UPLOAD_FILE_TOO_LARGE"));
  t.true(isVersionsError(t.throws(() => checkUpload({ a: "x".repeat(8), b: "x".repeat(8) }, limits)), "EDGE_VERSIONS_UPLOAD_TOO_LARGE"));
  t.is(checkUpload({ a: "x".repeat(7), b: "x".repeat(8) }, limits).length, 2);
});
