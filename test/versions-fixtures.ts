import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";

/** A fresh data directory (real path), removed after the test. */
export async function tempDataDir(t: ExecutionContext): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "edgehost-versions-")));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, "data");
}

/** A small two-file app upload whose fetch returns `text`. */
export function helloUpload(text: string): { kind: "upload"; entry: string; files: Record<string, string> } {
  return {
    kind: "upload",
    entry: "src/app.ts",
    files: {
      "src/app.ts": 'import { text } from "./text.ts";\nexport default { fetch() { return text; } };\n',
      "src/text.ts": `export const text = ${JSON.stringify(text)};\n`,
    },
  };
}

/** A ready bundle assigning the app global. */
export function bundleCode(tag: string): string {
  return `var __edgehost_app = { default: { fetch() { return ${JSON.stringify(tag)}; } } };\n`;
}
