import { access, mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import type { ExecutionContext } from "ava";
import { bundleApp, isLoaderError } from "../loader/index.js";
import type { LoaderErrorCode } from "../loader/index.js";
import { evaluateBundle } from "./loader-fixtures.js";
import { SECRET, confinedLayout, writeTree } from "./loader-confined-fixtures.js";

/** The edgehost checkout these tests run from (dist/test/ -> ../../). */
const REPO_DIR = fileURLToPath(new URL("../../", import.meta.url));

const OUTSIDE = "it resolves outside the app's directory";

/** Asserts a confined build of `entry` fails with `code` and returns its message. */
async function refused(t: ExecutionContext, root: string, code: LoaderErrorCode, entry = "app.ts", caps = {}): Promise<string> {
  const error = await t.throwsAsync(bundleApp(entry, { confine: { root, ...caps } }));
  t.true(isLoaderError(error, code), `expected ${code}, got ${String((error as { code?: unknown } | undefined)?.code)}: ${error?.message}`);
  t.false(error?.message.includes(SECRET));
  return error?.message ?? "";
}

test("confined: a multi-file app with a package in its own node_modules builds, reading only its tree", async (t) => {
  const { root } = await confinedLayout(t);
  await writeTree(root, {
    "app.ts": 'import { greet } from "./lib/greet.ts";\nimport pkg from "tiny";\nimport data from "./data.json";\nexport default { fetch() { return `${greet()} ${pkg} ${data.n}`; } };\n',
    "lib/greet.ts": 'export function greet(): string { return "hi"; }\n',
    "data.json": '{ "n": 7 }\n',
    "package.json": '{ "name": "tenant-app", "type": "module" }\n',
    "node_modules/tiny/package.json": JSON.stringify({ name: "tiny", exports: { ".": { workerd: "./w.js", default: "./d.js" } } }),
    "node_modules/tiny/w.js": 'export default "tiny-workerd";\n',
    "node_modules/tiny/d.js": 'export default "tiny-default";\n',
  });
  // A symlink that stays inside the tree is fine.
  await symlink("greet.ts", path.join(root, "lib", "alias.ts"));
  await writeFile(path.join(root, "app2.ts"), 'import { greet } from "./lib/alias.ts";\nexport default { fetch() { return greet(); } };\n');
  const bundle = await bundleApp("app.ts", { confine: { root } });
  t.is(evaluateBundle(bundle.code).default.fetch({ url: "http://x/" }, {}), "hi tiny-workerd 7");
  t.deepEqual([...bundle.inputs].sort(), ["app.ts", "data.json", "lib/greet.ts", "node_modules/tiny/w.js"].map((name) => path.join(root, name)));
  const second = await bundleApp(path.join(root, "app2.ts"), { confine: { root } });
  t.is(evaluateBundle(second.code).default.fetch({ url: "http://x/" }, {}), "hi");
  // No cache written into the (immutable) tree.
  await t.throwsAsync(access(path.join(root, ".edgehost-cache")));
});

test("confined: a ../ import out of the tree is refused, naming the import and file:line:col", async (t) => {
  const { root } = await confinedLayout(t);
  await writeTree(root, { "app.ts": 'import s from "../secret.ts";\nexport default { fetch() { return s; } };\n' });
  t.is(await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT"), `app.ts:1:15: cannot import "../secret.ts": ${OUTSIDE}`);
});

test("confined: a ../ import from a nested file and a dynamic import are refused", async (t) => {
  const { root } = await confinedLayout(t);
  await writeTree(root, {
    "app.ts": 'import "./lib/a.ts";\nexport default { fetch() { return import("../secret.ts"); } };\n',
    "lib/a.ts": 'export * from "../../secret.ts";\n',
  });
  const message = await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT");
  t.true(message.includes(`app.ts:2:42: cannot import "../secret.ts": ${OUTSIDE}`), message);
  t.true(message.includes(`lib/a.ts:1:15: cannot import "../../secret.ts": ${OUTSIDE}`), message);
});

test("confined: absolute imports (/etc/passwd, a file of the edgehost repo) are refused", async (t) => {
  const { root, outer } = await confinedLayout(t);
  const repoFile = path.join(REPO_DIR, "loader", "errors.ts");
  await writeTree(root, {
    "app.ts": `import p from "/etc/passwd";\nimport e from ${JSON.stringify(repoFile)};\nimport s from ${JSON.stringify(path.join(outer, "secret.ts"))};\nexport default { p, e, s };\n`,
  });
  const message = await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT");
  t.deepEqual(message.split("\n"), [
    `app.ts:1:15: cannot import "/etc/passwd": ${OUTSIDE}`,
    `app.ts:2:15: cannot import "${repoFile}": ${OUTSIDE}`,
    `app.ts:3:15: cannot import "${path.join(outer, "secret.ts")}": ${OUTSIDE}`,
  ]);
});

test("confined: symlinks inside the tree pointing out (file, directory, node_modules package, the entry) are refused", async (t) => {
  const { root, outer } = await confinedLayout(t);
  await writeTree(outer, {
    "other-tenant/lib.ts": `export default "${SECRET}";\n`,
    "host-pkg/package.json": '{ "name": "linked", "main": "index.js" }',
    "host-pkg/index.js": `export default "${SECRET}";\n`,
  });
  await symlink(path.join(outer, "secret.ts"), path.join(root, "link.ts"));
  await symlink(path.join(outer, "other-tenant"), path.join(root, "vendor"));
  await mkdir(path.join(root, "node_modules"));
  await symlink(path.join(outer, "host-pkg"), path.join(root, "node_modules", "linked"));
  await writeTree(root, {
    "app.ts": 'import a from "./link.ts";\nimport b from "./vendor/lib.ts";\nimport c from "linked";\nexport default { a, b, c };\n',
  });
  t.deepEqual((await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT")).split("\n"), [
    `app.ts:1:15: cannot import "./link.ts": ${OUTSIDE}`,
    `app.ts:2:15: cannot import "./vendor/lib.ts": ${OUTSIDE}`,
    `app.ts:3:15: cannot import "linked": ${OUTSIDE}`,
  ]);
  await symlink(path.join(outer, "secret.ts"), path.join(root, "entry.ts"));
  await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT", "entry.ts");
});

test("confined: a bare import found only in a node_modules above the tree is refused", async (t) => {
  const { root, outer } = await confinedLayout(t);
  await writeTree(outer, {
    "node_modules/hostpkg/package.json": '{ "name": "hostpkg", "main": "index.js" }',
    "node_modules/hostpkg/index.js": `export default "${SECRET}";\n`,
  });
  await writeTree(root, { "app.ts": 'import h from "hostpkg";\nexport default { h };\n' });
  t.is(await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT"), `app.ts:1:15: cannot import "hostpkg": ${OUTSIDE}`);
});

test("confined: a tree inside the edgehost checkout is refused: esbuild would read edgehost's package.json and node_modules", async (t) => {
  const { root } = await confinedLayout(t, path.join(REPO_DIR, "dist"));
  // zod resolves only from edgehost's own node_modules, found by walking up.
  await writeTree(root, { "app.ts": 'import { z } from "zod";\nexport default { z };\n' });
  const message = await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT");
  t.true(message.includes(`esbuild would read ${path.join(REPO_DIR, "package.json")}`), message);
});

test("confined: a package.json above the tree is refused before esbuild runs", async (t) => {
  const { root, outer } = await confinedLayout(t);
  // Its "imports" would map #s to the secret, its "browser" field would remap files.
  await writeFile(path.join(outer, "package.json"), JSON.stringify({ name: "host", imports: { "#s": "./secret.ts" }, sideEffects: false }));
  await writeTree(root, { "app.ts": 'import s from "#s";\nexport default { s };\n' });
  t.regex(await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT"), /^confined build refused: esbuild would read .*\/package\.json, above the app's directory/);
});

test("confined: no tsconfig.json is read, above the tree or in it", async (t) => {
  const { root, outer } = await confinedLayout(t);
  // Both would map "alias" to a file inside the tree, so only reading them could make it resolve.
  const paths = (prefix: string): string => JSON.stringify({ compilerOptions: { baseUrl: ".", paths: { alias: [`${prefix}inner.ts`] } } });
  await writeFile(path.join(outer, "tsconfig.json"), paths("./app/"));
  await writeTree(root, {
    "app.ts": 'import inner from "alias";\nexport default { inner };\n',
    "inner.ts": "export default 1;\n",
  });
  const message = await refused(t, root, "EDGE_LOADER_BUILD_FAILED");
  t.true(message.startsWith('app.ts:1:19: Could not resolve "alias"'), message);
  await writeFile(path.join(root, "tsconfig.json"), paths("./"));
  await refused(t, root, "EDGE_LOADER_BUILD_FAILED");
});

test("confined: require.resolve and import.meta are not resolved at build time, so nothing outside is bundled", async (t) => {
  const { root, outer } = await confinedLayout(t);
  await writeTree(root, {
    "app.cjs": 'const where = require.resolve("../secret.ts");\nmodule.exports = { default: { fetch() { return typeof where; } } };\n',
    "meta.mjs": 'const u = new URL("../secret.ts", import.meta.url);\nconst r = import.meta.resolve?.("../secret.ts");\nexport default { fetch() { return String(u) + r; } };\n',
  });
  for (const entry of ["app.cjs", "meta.mjs"]) {
    const bundle = await bundleApp(entry, { confine: { root } });
    t.false(bundle.code.includes(SECRET), entry);
    t.false(bundle.code.includes(outer), entry);
    t.deepEqual(bundle.inputs, [path.join(root, entry)]);
  }
  // require() of the same path is resolved at build time, and refused.
  await writeTree(root, { "req.cjs": 'module.exports = require("../secret.ts");\n' });
  t.is(await refused(t, root, "EDGE_LOADER_OUTSIDE_ROOT", "req.cjs"), `req.cjs:1:26: cannot import "../secret.ts": ${OUTSIDE}`);
});

test("confined: file types outside the source loaders are not loaded", async (t) => {
  const { root } = await confinedLayout(t);
  await writeTree(root, { "app.ts": 'import k from "./key.pem";\nexport default { k };\n', "key.pem": "x" });
  t.regex(await refused(t, root, "EDGE_LOADER_BUILD_FAILED"), /cannot load key\.pem: only .* files are bundled/);
});

test("confined: caps on the number and the total size of files loaded", async (t) => {
  const { root } = await confinedLayout(t);
  await writeTree(root, {
    "app.ts": 'import a from "./a.ts";\nimport b from "./b.ts";\nexport default { a, b };\n',
    "a.ts": "export default 1;\n",
    "b.ts": `export default "${"x".repeat(1000)}";\n`,
  });
  t.regex(await refused(t, root, "EDGE_LOADER_INPUT_LIMIT", "app.ts", { maxFiles: 2 }), /the app has more than 2 source files/);
  t.regex(await refused(t, root, "EDGE_LOADER_INPUT_LIMIT", "app.ts", { maxTotalBytes: 500 }), /the app's sources exceed 500 bytes/);
  const bundle = await bundleApp("app.ts", { confine: { root, maxFiles: 3, maxTotalBytes: 2000 } });
  t.is(bundle.inputs.length, 3);
});

test("confined: a missing root or entry is reported as such", async (t) => {
  const { root } = await confinedLayout(t);
  await refused(t, path.join(root, "nope"), "EDGE_LOADER_ENTRY_NOT_FOUND");
  await refused(t, root, "EDGE_LOADER_ENTRY_NOT_FOUND", "missing.ts");
  t.pass();
});

test("confined: node:buffer, bare buffer and cloudflare:workers are the runtime's own modules, even where a buffer package exists above the upload", async (t) => {
  const { root } = await confinedLayout(t);
  // A package named buffer outside the tree: the upload must not get it, and must still get the runtime's.
  await writeTree(path.dirname(root), { "node_modules/buffer/package.json": JSON.stringify({ name: "buffer", main: "index.js" }), "node_modules/buffer/index.js": `export const Buffer = "${SECRET}";\n` });
  await writeTree(root, {
    "app.ts":
      'import { Buffer } from "buffer";\nimport { Buffer as B } from "node:buffer";\nimport { WorkerEntrypoint } from "cloudflare:workers";\nexport default { fetch() { return [Buffer === B, typeof WorkerEntrypoint]; } };\n',
  });
  const bundle = await bundleApp("app.ts", { confine: { root } });
  t.false(bundle.code.includes(SECRET));
  const code = `globalThis.Buffer = function Buffer() {};\nglobalThis[Symbol.for("edgehost.cloudflare:workers")] = ${"{ WorkerEntrypoint: class {} }"};\n${bundle.code}`;
  t.deepEqual(evaluateBundle(code).default.fetch({ url: "http://x/" }, {}), [true, "function"]);
  t.deepEqual([...bundle.inputs], [path.join(root, "app.ts")]);
});
