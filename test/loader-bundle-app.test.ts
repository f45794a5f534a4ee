import { access, writeFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { bundleApp, isLoaderError, LoaderError } from "../loader/index.js";
import { formatBuildMessages } from "../loader/format-build-messages.js";
import { LOADER_FIXTURES_DIR, copyFixture, evaluateBundle, installPackage, installTinyPackage } from "./loader-fixtures.js";

const BUILTIN_REASON = "edgehost apps run in a V8 isolate without Node APIs";

test("bundleApp: bundles a TS entry with a relative import and a package from the app's node_modules", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  const bundle = await bundleApp(path.join(dir, "app.ts"), { cache: false });
  t.is(bundle.entryPath, path.join(dir, "app.ts"));
  t.false(bundle.fromCache);
  t.regex(bundle.hash, /^[0-9a-f]{64}$/);
  t.deepEqual([...bundle.inputs].sort(), [
    path.join(dir, "app.ts"),
    path.join(dir, "lib", "greet.ts"),
    path.join(dir, "node_modules", "tiny-pkg", "workerd.js"),
  ]);
  const app = evaluateBundle(bundle.code);
  // "workerd build" proves the export condition order: workerd before node/default.
  t.is(app.default.fetch({ url: "http://x/" }, { NAME: "edge" }), "hello edge (workerd build)");
});

test("bundleApp: the bundle carries an inline source map", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  const bundle = await bundleApp(path.join(dir, "app.ts"), { cache: false });
  t.regex(bundle.code, /\n\/\/# sourceMappingURL=data:application\/json;base64,[A-Za-z0-9+/=]+\n?$/);
});

for (const extension of [".js", ".mjs", ".mts"]) {
  test(`bundleApp: accepts a ${extension} entry`, async (t) => {
    const dir = await copyFixture(t, "basic");
    const entry = path.join(dir, `entry${extension}`);
    await writeFile(entry, 'export default { fetch() { return "from ' + extension + '"; } };\n');
    const bundle = await bundleApp(entry, { cache: false });
    t.is(evaluateBundle(bundle.code).default.fetch({ url: "http://x/" }, {}), `from ${extension}`);
  });
}

test("bundleApp: accepts a .cjs entry exporting default", async (t) => {
  const dir = await copyFixture(t, "basic");
  const entry = path.join(dir, "entry.cjs");
  await writeFile(entry, 'module.exports = { default: { fetch() { return "from .cjs"; } } };\n');
  const bundle = await bundleApp(entry, { cache: false });
  t.is(evaluateBundle(bundle.code).default.fetch({ url: "http://x/" }, {}), "from .cjs");
});

test("bundleApp: refuses fs and node:crypto with one line each naming the import and file:line:col", async (t) => {
  const dir = await copyFixture(t, "node-builtins");
  const error = await t.throwsAsync(bundleApp(path.join(dir, "app.ts"), { cache: false }), { instanceOf: LoaderError });
  t.is(error?.code, "EDGE_LOADER_BUILD_FAILED");
  // Positions point at the specifier's opening quote; the temp dir is outside
  // the current directory, so the paths are absolute.
  t.is(
    error?.message,
    [
      `${dir}/app.ts:2:30: cannot import Node built-in "fs": ${BUILTIN_REASON}`,
      `${dir}/app.ts:3:28: cannot import Node built-in "node:crypto": ${BUILTIN_REASON}`,
    ].join("\n"),
  );
});

test("bundleApp: refuses a Node built-in imported by a package in node_modules", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installPackage(dir, "tiny-pkg", {
    "package.json": JSON.stringify({ name: "tiny-pkg", main: "index.js" }),
    "index.js": 'import path from "path";\nexport default path.sep;\n',
  });
  const error = await t.throwsAsync(bundleApp(path.join(dir, "app.ts"), { cache: false }));
  t.is(error?.message, `${dir}/node_modules/tiny-pkg/index.js:1:18: cannot import Node built-in "path": ${BUILTIN_REASON}`);
});

test("bundleApp: a package the app installed under a built-in's bare name (a polyfill) is bundled", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installPackage(dir, "events", {
    "package.json": JSON.stringify({ name: "events", main: "events.js" }),
    "events.js": 'export const kind = "polyfill";\n',
  });
  const entry = path.join(dir, "polyfilled.ts");
  await writeFile(entry, 'import { kind } from "events";\nexport default { fetch() { return kind; } };\n');
  const bundle = await bundleApp(entry, { cache: false });
  t.is(evaluateBundle(bundle.code).default.fetch({ url: "http://x/" }, {}), "polyfill");
});

// Bare "buffer" resolves like any package from the app's directory up (a node_modules/buffer above a temp dir would win),
// so its fallback to the runtime's module is tested in a confined build, where nothing outside counts (loader-confined.test.ts).
test("bundleApp: node:buffer is the isolate's Buffer global, read when the app loads", async (t) => {
  const dir = await copyFixture(t, "basic");
  const entry = path.join(dir, "buffered.ts");
  await writeFile(
    entry,
    'import { Buffer, kMaxLength } from "node:buffer";\nimport nodeBuffer from "node:buffer";\nexport default { fetch() { return [Buffer === globalThis.Buffer, nodeBuffer.Buffer === Buffer, kMaxLength]; } };\n',
  );
  const bundle = await bundleApp(entry, { cache: false });
  // A stand-in global: the bundle reads whatever Buffer the isolate has when it loads.
  const code = `globalThis.Buffer = function Buffer() {};\n${bundle.code}`;
  t.deepEqual(evaluateBundle(code).default.fetch({ url: "http://x/" }, {}), [true, true, 0x7fffffff]);
});

test("bundleApp: an app's own buffer package still wins over the runtime's for the bare name", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installPackage(dir, "buffer", {
    "package.json": JSON.stringify({ name: "buffer", main: "index.js" }),
    "index.js": 'export const Buffer = "the app\'s own";\n',
  });
  const entry = path.join(dir, "own-buffer.ts");
  await writeFile(entry, 'import { Buffer } from "buffer";\nexport default { fetch() { return Buffer; } };\n');
  const bundle = await bundleApp(entry, { cache: false });
  t.is(evaluateBundle(bundle.code).default.fetch({ url: "http://x/" }, {}), "the app's own");
});

test("bundleApp: a syntax error is one file:line:col line", async (t) => {
  const dir = await copyFixture(t, "syntax-error");
  const error = await t.throwsAsync(bundleApp(path.join(dir, "app.ts"), { cache: false }));
  t.true(isLoaderError(error, "EDGE_LOADER_BUILD_FAILED"));
  t.is(error?.message, `${dir}/app.ts:3:20: Expected ")" but found ";"`);
});

test("bundleApp: an unresolved relative import is one file:line:col line", async (t) => {
  const dir = await copyFixture(t, "unresolved");
  const error = await t.throwsAsync(bundleApp(path.join(dir, "app.ts"), { cache: false }));
  t.true(isLoaderError(error, "EDGE_LOADER_BUILD_FAILED"));
  t.is(error?.message, `${dir}/app.ts:1:25: Could not resolve "./missing.js"`);
});

test("bundleApp: an uninstalled package is not found in edgehost's own node_modules", async (t) => {
  // Bundled in place: this fixture lives inside the edgehost tree, whose
  // node_modules has lru-cache. The path is relative, as it is inside the cwd.
  const entry = path.join(LOADER_FIXTURES_DIR, "edgehost-only", "app.ts");
  const error = await t.throwsAsync(bundleApp(entry, { cache: false }));
  t.true(isLoaderError(error, "EDGE_LOADER_BUILD_FAILED"));
  const shown = path.relative(process.cwd(), entry);
  t.is(
    error?.message,
    `${shown}:3:26: cannot import "lru-cache": it is not installed in the app's node_modules (edgehost's own packages are not visible to apps)`,
  );
});

test("bundleApp: a missing entry is EDGE_LOADER_ENTRY_NOT_FOUND naming the path as given", async (t) => {
  const dir = await copyFixture(t, "basic");
  const entry = path.join(dir, "nope.ts");
  const error = await t.throwsAsync(bundleApp(entry));
  t.is(error?.message, `entry not found: ${entry}`);
  t.true(isLoaderError(error, "EDGE_LOADER_ENTRY_NOT_FOUND"));
});

test("bundleApp: a directory as entry is EDGE_LOADER_ENTRY_NOT_FOUND", async (t) => {
  const dir = await copyFixture(t, "basic");
  const error = await t.throwsAsync(bundleApp(path.join(dir, "lib")));
  t.true(isLoaderError(error, "EDGE_LOADER_ENTRY_NOT_FOUND"));
});

test("bundleApp: an entry with an unsupported extension is EDGE_LOADER_UNSUPPORTED_ENTRY", async (t) => {
  const dir = await copyFixture(t, "basic");
  const entry = path.join(dir, "app.py");
  await writeFile(entry, "print('hi')\n");
  const error = await t.throwsAsync(bundleApp(entry));
  t.true(isLoaderError(error, "EDGE_LOADER_UNSUPPORTED_ENTRY"));
  t.is(error?.message, `unsupported entry: ${entry} (expected one of .ts .js .mjs .mts .cjs)`);
});

test("bundleApp: a failed build writes no cache", async (t) => {
  const dir = await copyFixture(t, "syntax-error");
  await t.throwsAsync(bundleApp(path.join(dir, "app.ts")));
  await t.throwsAsync(access(path.join(dir, ".edgehost-cache")), { code: "ENOENT" });
});

test("formatBuildMessages: columns count characters, not UTF-8 bytes, and paths inside the base are relative", (t) => {
  const lineText = 'const s = "héllo"; import x from "fs";';
  const lines = formatBuildMessages(
    [
      {
        id: "",
        pluginName: "",
        text: "first\nsecond",
        location: { file: "src/app.ts", namespace: "file", line: 4, column: Buffer.byteLength('const s = "héllo"; import x from '), length: 4, lineText, suggestion: "" },
        notes: [],
        detail: undefined,
      },
      { id: "", pluginName: "", text: "no location", location: null, notes: [], detail: undefined },
    ],
    "/srv/app",
    "/srv",
  );
  t.deepEqual(lines, [`app/src/app.ts:4:${lineText.indexOf('"fs"') + 1}: first second`, "no location"]);
});
