import test from "ava";
import { createServer } from "node:net";
import { runEdgehostToExit, writeApp } from "./helpers/edgehost-process.js";

/** Run edgehost on an app made of `files`; expect a failed start with exactly one line on stderr. */
async function startFails(files: Record<string, string>, extraArgs: readonly string[] = []): Promise<string> {
  const app = writeApp(files);
  try {
    const result = await runEdgehostToExit(["run", app.entry, "--port", "0", ...extraArgs], app.dir);
    if (result.code !== 1) throw new Error(`expected exit code 1, got ${String(result.code)}; output: ${result.stdout}${result.stderr}`);
    const lines = result.stderr.trim().split("\n");
    if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${result.stderr}`);
    return lines[0] as string;
  } finally {
    app.cleanup();
  }
}

test("startup: a missing entry is one clear line", async (t) => {
  const result = await runEdgehostToExit(["run", "does-not-exist.ts", "--port", "0"]);
  t.is(result.code, 1);
  t.is(result.stderr, "edgehost: error: entry not found: does-not-exist.ts\n");
});

test("startup: a syntax error names file:line:col", async (t) => {
  const line = await startFails({ "app.ts": "export default {\n  fetch() { return new Response(\n};\n" });
  t.regex(line, /^edgehost: error: app\.ts:3:\d+: /);
});

test("startup: importing a Node built-in is refused at build time", async (t) => {
  const line = await startFails({ "app.ts": 'import { readFileSync } from "fs";\nexport default { fetch() { return new Response(String(readFileSync)); } };\n' });
  t.is(line, 'edgehost: error: app.ts:1:30: cannot import Node built-in "fs": edgehost apps run in a V8 isolate without Node APIs');
});

test("startup: no default export is one clear line", async (t) => {
  const line = await startFails({ "app.ts": "export const handler = 1;\n" });
  t.is(line, "edgehost: error: app.ts: app has no default export (expected: export default { fetch(request, env, ctx) { ... } })");
});

test("startup: a default export without fetch is one clear line", async (t) => {
  const line = await startFails({ "app.ts": "export default { hello() {} };\n" });
  t.is(line, "edgehost: error: app.ts: the default export has no fetch() method (expected: export default { fetch(request, env, ctx) { ... } })");
});

test("startup: a throw at top level names the error and its source line", async (t) => {
  const line = await startFails({ "app.ts": 'const x = 1;\nthrow new Error("config missing");\nexport default { fetch() { return new Response("x"); } };\n' });
  t.is(line, "edgehost: error: app.ts: app threw during top-level evaluation: Error: config missing (at app.ts:2:7)");
});

test("startup: an endless loop at top level hits the startup limit", async (t) => {
  const line = await startFails({ "app.ts": "while (true) {}\nexport default { fetch() { return new Response('x'); } };\n" }, ["--startup-ms", "200"]);
  t.is(line, "edgehost: error: app.ts: top-level evaluation exceeded 200 ms");
});

test("startup: a port in use is one clear line", async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as { port: number }).port;
  const app = writeApp({ "app.ts": "export default { fetch() { return new Response('x'); } };\n" });
  try {
    const result = await runEdgehostToExit(["run", app.entry, "--port", String(port)], app.dir);
    t.is(result.code, 1);
    t.is(result.stderr, `edgehost: error: cannot listen on 127.0.0.1:${port}: address already in use (choose another with --port)\n`);
  } finally {
    blocker.close();
    app.cleanup();
  }
});

test("startup: unknown flags and bad values are one clear line", async (t) => {
  const unknown = await runEdgehostToExit(["run", "x.ts", "--nope"]);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /^edgehost: error: Unknown option '--nope'/);
  t.is(unknown.stderr.trim().split("\n").length, 1);
  const badNumber = await runEdgehostToExit(["run", "x.ts", "--cpu-ms", "lots"]);
  t.is(badNumber.stderr, 'edgehost: error: --cpu-ms expects a number, got "lots"\n');
  const outOfRange = await runEdgehostToExit(["run", "x.ts", "--memory-mb", "2"]);
  t.is(outOfRange.stderr, "edgehost: error: memoryLimitMb: Number must be greater than or equal to 8\n");
});

test("startup: a malformed .dev.vars is one clear line naming file and line", async (t) => {
  const app = writeApp({ "app.ts": "export default { fetch() { return new Response('x'); } };\n", ".dev.vars": "OK=1\nnot a pair\n" });
  try {
    const result = await runEdgehostToExit(["run", app.entry, "--port", "0"], app.dir);
    t.is(result.code, 1);
    t.regex(result.stderr, /^edgehost: error: .*\.dev\.vars:2: expected KEY=value, got "not a pair"\n$/);
  } finally {
    app.cleanup();
  }
});
