import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ExecutionContext } from "ava";

/** The marker every host-side file in these tests holds: a bundle containing it has leaked. */
export const SECRET = "HOST_SECRET_8d1f";

/** A fresh temp dir (real path, removed after the test) with `app/` (the confined root) inside it. */
export interface ConfinedLayout {
  /** The temp dir: stands for the host and for other tenants. */
  readonly outer: string;
  /** The confined root. */
  readonly root: string;
}

export async function confinedLayout(t: ExecutionContext, parent: string = os.tmpdir()): Promise<ConfinedLayout> {
  const outer = await realpath(await mkdtemp(path.join(parent, "edgehost-confined-")));
  t.teardown(() => rm(outer, { recursive: true, force: true }));
  const root = path.join(outer, "app");
  await mkdir(root);
  await writeFile(path.join(outer, "secret.ts"), `export default "${SECRET}";\n`);
  return { outer, root };
}

/** Writes `files` (relative path -> contents) under `dir`. */
export async function writeTree(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [name, contents] of Object.entries(files)) {
    const target = path.join(dir, name);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, contents);
  }
}
