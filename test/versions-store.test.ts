import { execFile } from "node:child_process";
import { access, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { isLoaderError } from "../loader/index.js";
import { VersionStore, isVersionsError } from "../runtime/versions/index.js";
import { evaluateBundle } from "./loader-fixtures.js";
import { bundleCode, helloUpload, tempDataDir } from "./versions-fixtures.js";

const run = promisify(execFile);
const CRASH_CHILD = fileURLToPath(new URL("./helpers/versions-crash-child.js", import.meta.url));

async function fetchText(store: VersionStore, hash: string): Promise<unknown> {
  return evaluateBundle(await store.loadBundle(hash)).default.fetch({ url: "http://x/" }, {});
}

test("store: an upload is written under uploads/<id>, built confined, stored by hash, and not active", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const version = await store.addVersion("shop", { ...helloUpload("v1"), note: "first" });
  t.is(version.source, "upload");
  t.is(version.entry, "src/app.ts");
  t.is(version.note, "first");
  t.is(await readFile(path.join(dataDir, "uploads", version.id, "src", "text.ts"), "utf8"), 'export const text = "v1";\n');
  t.is(await fetchText(store, version.bundleHash), "v1");
  t.deepEqual(await readdir(path.join(dataDir, "bundles")), [`${version.bundleHash}.js`]);
  t.is((await stat(path.join(dataDir, "bundles", `${version.bundleHash}.js`))).mode & 0o222, 0, "bundles are read-only");
  t.is(store.active("shop"), null);
  t.deepEqual(store.versions("shop"), [version]);
});

test("store: state survives a restart (a new open on the same directory)", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const one = await store.addVersion("shop", helloUpload("v1"));
  const two = await store.addVersion("shop", { kind: "bundle", code: bundleCode("v2") });
  await store.activate("shop", one.id);
  await store.activate("shop", two.id);
  await store.setSplit("shop", one.id, 25);
  const reopened = await VersionStore.open(dataDir);
  t.deepEqual(reopened.appState("shop"), store.appState("shop"));
  t.deepEqual(reopened.appState("shop"), { versions: [one, two], active: two.id, previous: one.id, split: { versionId: one.id, percent: 25 } });
  t.is(await fetchText(reopened, two.bundleHash), "v2");
});

test("store: rollback returns to the previous active version, clears the split, and errors with none", async (t) => {
  const store = await VersionStore.open(await tempDataDir(t));
  const one = await store.addVersion("shop", { kind: "bundle", code: bundleCode("v1") });
  const two = await store.addVersion("shop", { kind: "bundle", code: bundleCode("v2") });
  const three = await store.addVersion("shop", { kind: "config", code: bundleCode("v3") });
  await store.activate("shop", one.id);
  t.true(isVersionsError(await t.throwsAsync(store.rollback("shop")), "EDGE_VERSIONS_NO_PREVIOUS"));
  await store.activate("shop", two.id);
  await store.setSplit("shop", three.id, 5);
  t.is((await store.rollback("shop")).id, one.id);
  t.is(store.active("shop")?.id, one.id);
  t.is(store.appState("shop").split, null);
  // The rolled-back-from version is now previous: a second rollback undoes the first.
  t.is((await store.rollback("shop")).id, two.id);
  t.true(isVersionsError(await t.throwsAsync(store.rollback("nope")), "EDGE_VERSIONS_UNKNOWN_APP"));
});

test("store: splits need an active version, another version and an integer percent", async (t) => {
  const store = await VersionStore.open(await tempDataDir(t));
  const one = await store.addVersion("shop", { kind: "bundle", code: bundleCode("v1") });
  const two = await store.addVersion("shop", { kind: "bundle", code: bundleCode("v2") });
  t.true(isVersionsError(await t.throwsAsync(store.setSplit("shop", two.id, 10)), "EDGE_VERSIONS_BAD_SPLIT"));
  await store.activate("shop", one.id);
  t.true(isVersionsError(await t.throwsAsync(store.setSplit("shop", one.id, 10)), "EDGE_VERSIONS_BAD_SPLIT"));
  for (const percent of [-1, 101, 2.5, Number.NaN]) {
    t.true(isVersionsError(await t.throwsAsync(store.setSplit("shop", two.id, percent)), "EDGE_VERSIONS_BAD_SPLIT"), String(percent));
  }
  t.true(isVersionsError(await t.throwsAsync(store.setSplit("shop", "no-such-id", 10)), "EDGE_VERSIONS_UNKNOWN_VERSION"));
  t.deepEqual(await store.setSplit("shop", two.id, 10), { versionId: two.id, percent: 10 });
  // Activating the canary ends the split.
  await store.activate("shop", two.id);
  t.is(store.appState("shop").split, null);
  await store.setSplit("shop", one.id, 30);
  await store.clearSplit("shop");
  t.is(store.appState("shop").split, null);
});

test("store: identical uploads (and an identical bundle) share one bundle file; versions stay distinct", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const a = await store.addVersion("shop", helloUpload("same"));
  const bundleFile = path.join(dataDir, "bundles", `${a.bundleHash}.js`);
  const first = await stat(bundleFile);
  const b = await store.addVersion("blog", helloUpload("same"));
  const after = await stat(bundleFile);
  t.is(after.ino, first.ino, "the stored bundle is not replaced");
  t.is(after.mtimeMs, first.mtimeMs, "the stored bundle is not rewritten");
  const c = await store.addVersion("wiki", { kind: "bundle", code: await store.loadBundle(a.bundleHash) });
  t.not(a.id, b.id);
  t.is(a.bundleHash, b.bundleHash);
  t.is(c.bundleHash, a.bundleHash);
  t.deepEqual(await readdir(path.join(dataDir, "bundles")), [`${a.bundleHash}.js`]);
  t.deepEqual((await readdir(path.join(dataDir, "uploads"))).sort(), [a.id, b.id].sort());
});

test("store: a corrupt or invalid manifest is an error naming the file, and the file is left alone", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  await store.addVersion("shop", { kind: "bundle", code: bundleCode("v1") });
  const file = path.join(dataDir, "manifest.json");
  for (const text of ['{ "format": 1, "apps": {', '{ "format": 2, "apps": {} }', '{ "format": 1, "apps": { "shop": { "versions": [], "active": "ghost", "previous": null, "split": null } } }']) {
    await writeFile(file, text);
    const error = await t.throwsAsync(VersionStore.open(dataDir));
    t.true(isVersionsError(error, "EDGE_VERSIONS_CORRUPT_MANIFEST"), error?.message);
    t.true(error?.message.includes(file), error?.message);
    t.is(await readFile(file, "utf8"), text, "not reset");
  }
});

test("store: a missing manifest is an empty store", async (t) => {
  const store = await VersionStore.open(await tempDataDir(t));
  t.deepEqual(store.apps(), []);
  t.deepEqual(store.versions("shop"), []);
  t.is(store.active("shop"), null);
});

test("store: a crash between the manifest's temp file and its rename leaves the old manifest intact and readable", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const kept = await store.addVersion("shop", { kind: "bundle", code: bundleCode("kept") });
  await store.activate("shop", kept.id);
  const before = await readFile(path.join(dataDir, "manifest.json"), "utf8");
  const child = run(process.execPath, [CRASH_CHILD, dataDir], { env: { ...process.env, EDGEHOST_FAILPOINTS: "manifest-crash-before-rename" } });
  const error = await t.throwsAsync(child);
  t.is((error as { signal?: unknown }).signal, "SIGKILL");
  // The crash left its fsynced temp file beside the untouched manifest.
  t.true((await readdir(dataDir)).some((name) => name.startsWith("manifest.json.tmp-")));
  t.is(await readFile(path.join(dataDir, "manifest.json"), "utf8"), before);
  const reopened = await VersionStore.open(dataDir);
  t.deepEqual(reopened.apps(), ["shop"]);
  t.is(reopened.active("shop")?.id, kept.id);
  t.false((await readdir(dataDir)).some((name) => name.startsWith("manifest.json.tmp-")), "open removes the leftover");
  // Without the failpoint the same child completes.
  const { stdout } = await run(process.execPath, [CRASH_CHILD, dataDir]);
  t.is(stdout.trim(), "survived");
  t.deepEqual((await VersionStore.open(dataDir)).apps(), ["crash", "shop"]);
});

test("store: concurrent addVersion calls are serialised: every version lands, in the manifest on disk too", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const added = await Promise.all(
    Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store.addVersion("shop", helloUpload(`u${i}`)) : store.addVersion("shop", { kind: "bundle", code: bundleCode(`b${i}`) }))),
  );
  t.is(store.versions("shop").length, 8);
  t.deepEqual(store.versions("shop").map((version) => version.id).sort(), added.map((version) => version.id).sort());
  const reopened = await VersionStore.open(dataDir);
  t.deepEqual(reopened.versions("shop"), store.versions("shop"));
});

test("store: a failing build or a bad upload leaves the store as it was", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const escape = { kind: "upload" as const, entry: "app.ts", files: { "app.ts": 'import "/etc/passwd";\n' } };
  t.true(isLoaderError(await t.throwsAsync(store.addVersion("shop", escape)), "EDGE_LOADER_OUTSIDE_ROOT"));
  const syntax = { kind: "upload" as const, entry: "app.ts", files: { "app.ts": "export default {\n" } };
  t.true(isLoaderError(await t.throwsAsync(store.addVersion("shop", syntax)), "EDGE_LOADER_BUILD_FAILED"));
  t.true(isVersionsError(await t.throwsAsync(store.addVersion("shop", { ...syntax, entry: "main.ts" })), "EDGE_VERSIONS_UPLOAD_NO_ENTRY"));
  t.true(isVersionsError(await t.throwsAsync(store.addVersion("shop", { ...syntax, files: { "../app.ts": "" } })), "EDGE_VERSIONS_PATH_TRAVERSAL"));
  t.true(isVersionsError(await t.throwsAsync(store.addVersion("Shop!", helloUpload("x"))), "EDGE_VERSIONS_BAD_APP_NAME"));
  t.deepEqual(store.apps(), []);
  t.deepEqual(await readdir(path.join(dataDir, "uploads")), []);
  t.deepEqual(await readdir(path.join(dataDir, "bundles")), []);
  await t.throwsAsync(access(path.join(dataDir, "manifest.json")));
});

test("store: removeApp drops the app and its uploads but keeps shared bundles; bundles are checked on load", async (t) => {
  const dataDir = await tempDataDir(t);
  const store = await VersionStore.open(dataDir);
  const shop = await store.addVersion("shop", helloUpload("same"));
  const blog = await store.addVersion("blog", helloUpload("same"));
  await store.removeApp("shop");
  t.deepEqual(store.apps(), ["blog"]);
  t.deepEqual(await readdir(path.join(dataDir, "uploads")), [blog.id]);
  t.is(await fetchText(store, shop.bundleHash), "same");
  t.true(isVersionsError(await t.throwsAsync(store.removeApp("shop")), "EDGE_VERSIONS_UNKNOWN_APP"));
  t.true(isVersionsError(await t.throwsAsync(store.loadBundle("0".repeat(64))), "EDGE_VERSIONS_BUNDLE_NOT_FOUND"));
  t.true(isVersionsError(await t.throwsAsync(store.loadBundle("../manifest")), "EDGE_VERSIONS_BUNDLE_NOT_FOUND"));
});
