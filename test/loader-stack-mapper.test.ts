import { readFile } from "node:fs/promises";
import path from "node:path";
import test from "ava";
import { bundleApp } from "../loader/index.js";
import { copyFixture, evaluateBundle, installTinyPackage } from "./loader-fixtures.js";

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): string {
  const lines = text.split("\n");
  const index = lines.findIndex((line) => line.includes(needle));
  if (index === -1) throw new Error(`${needle} not found`);
  return `${index + 1}:${(lines[index] ?? "").indexOf(needle) + 1}`;
}

test("mapStack: maps a real V8 stack from app.js back to the TS sources", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  const bundle = await bundleApp(path.join(dir, "app.ts"), { cache: false });
  const app = evaluateBundle(bundle.code);
  const error = t.throws(() => app.default.fetch({ url: "http://x/fail" }, {}));
  const stack = error?.stack ?? "";
  t.regex(stack, /\(app\.js:\d+:\d+\)/);

  const mapped = bundle.mapStack(stack);
  const greetSource = await readFile(path.join(dir, "lib", "greet.ts"), "utf8");
  const appSource = await readFile(path.join(dir, "app.ts"), "utf8");
  const lines = mapped.split("\n");
  t.is(lines[0], "Error: cannot greet world");
  // V8 points the throwing frame at `new Error`, and the caller's at the call.
  t.is(lines[1], `    at failGreeting (lib/greet.ts:${positionOf(greetSource, "new Error")})`);
  t.is(lines[2], `    at Object.fetch (app.ts:${positionOf(appSource, "failGreeting(env")})`);
  t.false(mapped.includes("app.js:"));
});

test("mapStack: leaves positions of other files and unmapped positions alone", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  const bundle = await bundleApp(path.join(dir, "app.ts"), { cache: false });
  const stack = [
    "Error: x",
    "    at a (myapp.js:3:5)",
    "    at b (/srv/app.js:3:5)",
    "    at c (node:internal/x:1:1)",
    "    at d (app.js:99999:1)",
  ].join("\n");
  t.is(bundle.mapStack(stack), stack);
});

test("mapStack: a bundle without a source map returns the stack unchanged", async (t) => {
  const dir = await copyFixture(t, "basic");
  await installTinyPackage(dir);
  const bundle = await bundleApp(path.join(dir, "app.ts"), { cache: false });
  const { createStackMapper } = await import("../loader/stack-mapper.js");
  const withoutMap = bundle.code.slice(0, bundle.code.indexOf("//# sourceMappingURL="));
  const mapStack = createStackMapper(withoutMap, dir, dir);
  t.is(mapStack("    at f (app.js:10:3)"), "    at f (app.js:10:3)");
});
