import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import type { ExecutionContext } from "ava";
import { bundleApp } from "../loader/index.js";
import { esbuildRunCount } from "../loader/bundle-app.js";
import { copyFixture, evaluateBundle, installTinyPackage } from "./loader-fixtures.js";

/** A fresh copy of the basic fixture with its package installed; returns the entry path. */
async function basicApp(t: ExecutionContext): Promise<string> {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  return path.join(dir, "app.ts");
}

async function cacheFile(cacheDir: string, suffix: string): Promise<string> {
  const names = (await readdir(cacheDir)).filter((name) => name.endsWith(suffix));
  if (names.length !== 1 || names[0] === undefined) throw new Error(`expected one *${suffix} in ${cacheDir}, found ${names.join(", ")}`);
  return path.join(cacheDir, names[0]);
}

function fetchText(code: string): unknown {
  return evaluateBundle(code).default.fetch({ url: "http://x/" }, {});
}

// Serial: these read the per-process esbuild run counter, which concurrent tests would move.

test.serial("bundleApp cache: an unchanged app is served from the cache without running esbuild", async (t) => {
  const entry = await basicApp(t);
  const first = await bundleApp(entry);
  const runsAfterFirst = esbuildRunCount();
  const second = await bundleApp(entry);
  t.false(first.fromCache);
  t.true(second.fromCache);
  t.is(esbuildRunCount(), runsAfterFirst);
  t.is(second.code, first.code);
  t.is(second.hash, first.hash);
  t.deepEqual(second.inputs, first.inputs);
  t.is(second.entryPath, first.entryPath);
});

test.serial("bundleApp cache: editing an imported file rebuilds", async (t) => {
  const entry = await basicApp(t);
  await bundleApp(entry);
  const greet = path.join(path.dirname(entry), "lib", "greet.ts");
  await writeFile(greet, (await readFile(greet, "utf8")).replace("hello ${name}", "hi ${name}"));
  const runsBefore = esbuildRunCount();
  const rebuilt = await bundleApp(entry);
  t.false(rebuilt.fromCache);
  t.is(esbuildRunCount(), runsBefore + 1);
  t.is(fetchText(rebuilt.code), "hi world (workerd build)");
});

test.serial("bundleApp cache: changing a dependency's package.json rebuilds", async (t) => {
  const entry = await basicApp(t);
  await bundleApp(entry);
  const manifest = path.join(path.dirname(entry), "node_modules", "tiny-pkg", "package.json");
  await writeFile(manifest, JSON.stringify({ name: "tiny-pkg", exports: { ".": "./default.js" } }));
  const rebuilt = await bundleApp(entry);
  t.false(rebuilt.fromCache);
  t.is(fetchText(rebuilt.code), "hello world (default build)");
});

test.serial("bundleApp cache: a corrupt manifest is ignored and rewritten", async (t) => {
  const entry = await basicApp(t);
  const first = await bundleApp(entry);
  const cacheDir = path.join(path.dirname(entry), ".edgehost-cache");
  await writeFile(await cacheFile(cacheDir, ".manifest.json"), "{ not json");
  const rebuilt = await bundleApp(entry);
  t.false(rebuilt.fromCache);
  t.is(rebuilt.hash, first.hash);
  const third = await bundleApp(entry);
  t.true(third.fromCache);
});

test.serial("bundleApp cache: a manifest of the wrong shape is ignored", async (t) => {
  const entry = await basicApp(t);
  await bundleApp(entry);
  const cacheDir = path.join(path.dirname(entry), ".edgehost-cache");
  await writeFile(await cacheFile(cacheDir, ".manifest.json"), JSON.stringify({ version: 1, inputs: "everything" }));
  t.false((await bundleApp(entry)).fromCache);
});

test.serial("bundleApp cache: a tampered bundle file is not served", async (t) => {
  const entry = await basicApp(t);
  const first = await bundleApp(entry);
  const cacheDir = path.join(path.dirname(entry), ".edgehost-cache");
  await writeFile(await cacheFile(cacheDir, ".js"), "var __edgehost_app = {};\n");
  const rebuilt = await bundleApp(entry);
  t.false(rebuilt.fromCache);
  t.is(rebuilt.code, first.code);
});

test.serial("bundleApp cache: cache false neither reads nor writes", async (t) => {
  const entry = await basicApp(t);
  const runsBefore = esbuildRunCount();
  t.false((await bundleApp(entry, { cache: false })).fromCache);
  t.false((await bundleApp(entry, { cache: false })).fromCache);
  t.is(esbuildRunCount(), runsBefore + 2);
  await t.throwsAsync(readdir(path.join(path.dirname(entry), ".edgehost-cache")), { code: "ENOENT" });
});

test.serial("bundleApp cache: cacheDir puts the manifest and bundle there", async (t) => {
  const entry = await basicApp(t);
  const cacheDir = path.join(path.dirname(entry), "elsewhere", "cache");
  const first = await bundleApp(entry, { cacheDir });
  t.is(await readFile(await cacheFile(cacheDir, ".js"), "utf8"), first.code);
  const manifest = JSON.parse(await readFile(await cacheFile(cacheDir, ".manifest.json"), "utf8")) as {
    entryPath: string;
    outputHash: string;
    inputs: { path: string; sha256: string }[];
  };
  t.is(manifest.entryPath, entry);
  t.is(manifest.outputHash, first.hash);
  t.deepEqual(
    manifest.inputs.map((input) => input.path),
    [...first.inputs],
  );
  t.true(manifest.inputs.every((input) => /^[0-9a-f]{64}$/.test(input.sha256)));
  t.true((await bundleApp(entry, { cacheDir })).fromCache);
  await t.throwsAsync(readdir(path.join(path.dirname(entry), ".edgehost-cache")), { code: "ENOENT" });
});

test.serial("bundleApp cache: a cached bundle maps stacks like a fresh one", async (t) => {
  const entry = await basicApp(t);
  await bundleApp(entry);
  const cached = await bundleApp(entry);
  t.true(cached.fromCache);
  const error = t.throws(() => evaluateBundle(cached.code).default.fetch({ url: "http://x/fail" }, {}));
  t.regex(cached.mapStack(error?.stack ?? ""), /at failGreeting \(lib\/greet\.ts:6:9\)/);
});
