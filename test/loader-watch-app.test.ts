import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import type { ExecutionContext } from "ava";
import { bundleApp, watchApp } from "../loader/index.js";
import type { AppBundle } from "../loader/index.js";
import { copyFixture, installTinyPackage } from "./loader-fixtures.js";

/** Fails instead of hanging until ava's timeout when a change is never reported. */
async function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no change reported within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Bundles a fresh basic app and resolves once watchApp reports a change; the watcher is closed after the test. */
async function watchedApp(t: ExecutionContext): Promise<{ bundle: AppBundle; changed: Promise<void>; calls: () => number }> {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  const bundle = await bundleApp(path.join(dir, "app.ts"), { cache: false });
  let count = 0;
  let resolveChanged!: () => void;
  const changed = new Promise<void>((resolve) => {
    resolveChanged = resolve;
  });
  const watcher = watchApp(bundle, () => {
    count += 1;
    resolveChanged();
  });
  t.teardown(() => watcher.close());
  return { bundle, changed, calls: () => count };
}

test("watchApp: fires when an imported file is edited", async (t) => {
  const { bundle, changed, calls } = await watchedApp(t);
  const greet = path.join(path.dirname(bundle.entryPath), "lib", "greet.ts");
  await writeFile(greet, `${await readFile(greet, "utf8")}\nexport const edited = true;\n`);
  await within(changed, 5000);
  t.is(calls(), 1);
});

test("watchApp: fires when an editor replaces a file by renaming over it", async (t) => {
  const { bundle, changed } = await watchedApp(t);
  const greet = path.join(path.dirname(bundle.entryPath), "lib", "greet.ts");
  const temporary = `${greet}.swp`;
  await writeFile(temporary, `${await readFile(greet, "utf8")}\n// saved\n`);
  await rename(temporary, greet);
  await within(changed, 5000);
  t.true(bundle.inputs.includes(greet));
});

test("watchApp: fires for a package file in node_modules", async (t) => {
  const { bundle, changed } = await watchedApp(t);
  const packageFile = path.join(path.dirname(bundle.entryPath), "node_modules", "tiny-pkg", "workerd.js");
  t.true(bundle.inputs.includes(packageFile));
  await writeFile(packageFile, 'export default "edited";\n');
  await within(changed, 5000);
  t.true(bundle.inputs.includes(packageFile));
});
