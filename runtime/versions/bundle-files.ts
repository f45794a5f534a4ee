import { createHash, randomBytes } from "node:crypto";
import { link, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { VersionsError } from "./errors.js";
import type { BundleHash } from "./manifest.js";
import { syncDir } from "./manifest.js";

const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Prefix of a bundle being written; never a valid hash, so never read as a bundle. */
export const BUNDLE_TEMP_PREFIX = ".tmp-";

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function bundlePath(bundlesDir: string, hash: BundleHash): string {
  if (!HASH_PATTERN.test(hash)) throw new VersionsError("EDGE_VERSIONS_BUNDLE_NOT_FOUND", `not a bundle hash: ${JSON.stringify(hash)}`);
  return path.join(bundlesDir, `${hash}.js`);
}

/**
 * Stores `code` as `<bundlesDir>/<sha256>.js`, once: the file is written in
 * full and fsynced under a temp name, then hard-linked to its final name,
 * which fails if the name exists, so a stored bundle is never rewritten, not
 * even with the same bytes. Returns the hash. Read-only mode: nothing on this
 * host is meant to edit it.
 */
export async function storeBundle(bundlesDir: string, code: string): Promise<BundleHash> {
  const hash = sha256(code);
  const final = bundlePath(bundlesDir, hash);
  const temp = path.join(bundlesDir, `${BUNDLE_TEMP_PREFIX}${randomBytes(6).toString("hex")}`);
  const handle = await open(temp, "wx", 0o444);
  try {
    await handle.writeFile(code);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, final);
    await syncDir(bundlesDir);
  } catch (error) {
    // Already stored (an identical upload): the bytes are the same by their hash.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await rm(temp, { force: true });
  }
  return hash;
}

/**
 * A stored bundle's code, checked against its hash (a bundle corrupted on
 * disk must not run as if it were the deployed one).
 *
 * @throws VersionsError `EDGE_VERSIONS_BUNDLE_NOT_FOUND`, `EDGE_VERSIONS_BUNDLE_CORRUPT`
 */
export async function loadBundleFile(bundlesDir: string, hash: BundleHash): Promise<string> {
  const file = bundlePath(bundlesDir, hash);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new VersionsError("EDGE_VERSIONS_BUNDLE_NOT_FOUND", `bundle ${hash} not found in ${bundlesDir}`, { cause: error });
  }
  if (sha256(bytes) !== hash) throw new VersionsError("EDGE_VERSIONS_BUNDLE_CORRUPT", `${file} does not hash to its name`);
  return bytes.toString("utf8");
}
