import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { CheckedFile } from "./upload-paths.js";
import { syncDir } from "./manifest.js";

/** Prefix of an upload being written; the next open removes leftovers of a crash. */
export const UPLOAD_STAGING_PREFIX = ".staging-";

/**
 * Writes checked files to `<uploadsDir>/<versionId>/`: first into a staging
 * directory, then renamed into place, so a directory named after a version
 * always holds the whole upload. Files are read-only and created exclusively
 * (`wx`): nothing rewrites an upload. Returns the upload's directory.
 */
export async function writeUploadDir(uploadsDir: string, versionId: string, files: readonly CheckedFile[]): Promise<string> {
  const staging = path.join(uploadsDir, `${UPLOAD_STAGING_PREFIX}${versionId}`);
  const final = path.join(uploadsDir, versionId);
  await mkdir(staging);
  try {
    for (const file of files) {
      // Paths were checked (relative, no .., no dot segments), so the join stays inside staging.
      const target = path.join(staging, ...file.path.split("/"));
      await mkdir(path.dirname(target), { recursive: true });
      const handle = await open(target, "wx", 0o444);
      try {
        await handle.writeFile(file.bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rename(staging, final);
    await syncDir(uploadsDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return final;
}
