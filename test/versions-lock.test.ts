/**
 * The manifest lock (runtime/versions/manifest-lock.ts): two stores on one
 * data directory, in one process or in two, lose none of each other's
 * changes; a lock left by a dead process or too old is taken over; a lock a
 * live process keeps is waited for, then refused with EDGE_VERSIONS_LOCKED.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { VersionStore, isVersionsError } from "../runtime/versions/index.js";
import { MANIFEST_LOCK_FILE_NAME, withManifestLock } from "../runtime/versions/manifest-lock.js";
import { bundleCode, tempDataDir } from "./versions-fixtures.js";

const run = promisify(execFile);
const WRITER_CHILD = fileURLToPath(new URL("./helpers/versions-writer-child.js", import.meta.url));

test("lock: a change made through one store is kept by a change made through another opened before it", async (t) => {
  const dataDir = await tempDataDir(t);
  const first = await VersionStore.open(dataDir);
  const second = await VersionStore.open(dataDir);
  const one = await first.addVersion("one", { kind: "bundle", code: bundleCode("one") });
  await first.activate("one", one.id);
  // `second` has not seen app one; its change starts from the manifest on disk.
  await second.addVersion("two", { kind: "bundle", code: bundleCode("two") });
  t.deepEqual(second.apps(), ["one", "two"]);
  t.is(second.active("one")?.id, one.id);
  const reopened = await VersionStore.open(dataDir);
  t.deepEqual(reopened.apps(), ["one", "two"]);
  t.false(existsSync(path.join(dataDir, MANIFEST_LOCK_FILE_NAME)), "no lock is left after the changes");
});

test("lock: two processes changing one data directory at once lose no change", async (t) => {
  const dataDir = await tempDataDir(t);
  await VersionStore.open(dataDir);
  const perProcess = 12;
  const outputs = await Promise.all(["alpha", "beta"].map((app) => run(process.execPath, [WRITER_CHILD, dataDir, app, String(perProcess)])));
  for (const { stdout } of outputs) t.is(stdout.trim(), "done");
  const store = await VersionStore.open(dataDir);
  t.deepEqual(store.apps(), ["alpha", "beta"]);
  for (const app of ["alpha", "beta"]) {
    t.is(store.versions(app).length, perProcess, `${app}: every version in the manifest`);
    t.is(store.active(app)?.id, store.versions(app).at(-1)?.id, `${app}: the last activation holds`);
  }
});

test("lock: a lock left by a process that is gone is taken over at once", async (t) => {
  const dataDir = await tempDataDir(t);
  await mkdir(dataDir, { recursive: true });
  // A pid that was alive a moment ago and is not any more.
  const { stdout } = await run(process.execPath, ["-e", "console.log(process.pid)"]);
  await writeFile(path.join(dataDir, MANIFEST_LOCK_FILE_NAME), `${stdout.trim()}\n`);
  const started = performance.now();
  const store = await VersionStore.open(dataDir);
  await store.addVersion("shop", { kind: "bundle", code: bundleCode("shop") });
  t.true(performance.now() - started < 5_000, "no wait for a dead holder");
  t.deepEqual((await VersionStore.open(dataDir)).apps(), ["shop"]);
});

test("lock: a lock a live process holds is waited for, and refused with EDGE_VERSIONS_LOCKED past the wait", async (t) => {
  const dataDir = await tempDataDir(t);
  await mkdir(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, MANIFEST_LOCK_FILE_NAME);
  // The parent of this test process is alive for as long as the test runs.
  await writeFile(lockFile, `${process.ppid}\n`);
  const error = await t.throwsAsync(withManifestLock(dataDir, async () => "ran", 200));
  t.true(isVersionsError(error, "EDGE_VERSIONS_LOCKED"), String(error));
  t.true(existsSync(lockFile), "a live holder's lock is left alone");
  // Released while a change waits: the change goes ahead.
  setTimeout(() => void import("node:fs/promises").then(({ rm }) => rm(lockFile)), 100);
  t.is(await withManifestLock(dataDir, async () => "ran", 5_000), "ran");
});

test("lock: a lock older than any change takes is stale even if its pid is alive (reused)", async (t) => {
  const dataDir = await tempDataDir(t);
  await mkdir(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, MANIFEST_LOCK_FILE_NAME);
  await writeFile(lockFile, `${process.ppid}\n`);
  const longAgo = new Date(Date.now() - 120_000);
  await utimes(lockFile, longAgo, longAgo);
  t.is(await withManifestLock(dataDir, async () => "ran", 200), "ran");
  t.false(existsSync(lockFile));
});
