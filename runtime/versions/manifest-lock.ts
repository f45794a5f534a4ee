/**
 * A lock file that serialises changes to one data directory's manifest
 * between processes. Each front end keeps its own copy of the manifest in
 * memory, and for the seconds of a hand-over two front ends hold the admin
 * port at once: without the lock, two deploys landing on different ones
 * would each write their own copy and the later write would lose the
 * earlier one. Under the lock a change reads the manifest from disk first,
 * so it starts from every change made before it, by any process.
 *
 * The lock is `manifest.lock`, created exclusively (O_EXCL) with the
 * holder's pid. A lock whose holder is gone (a front end killed while it
 * wrote) or that is older than any change takes is stale and is taken
 * over; the takeover renames it away first, so that of two processes that
 * both saw it stale only one removes it. (If the holder's pid was reused by
 * another live process, the age bound still ends the wait.)
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { VersionsError } from "./errors.js";

export const MANIFEST_LOCK_FILE_NAME = "manifest.lock";

/** Prefix of a stale lock being taken over; removed by whoever renamed it. */
export const STALE_LOCK_PREFIX = ".stale-lock-";
/** Between two attempts to take the lock. */
const RETRY_MS = 5;
/** How long a change waits for another process's change before it gives up. */
export const LOCK_WAIT_MS = 10_000;
/** No change holds the lock this long (a manifest write takes milliseconds); an older lock is stale. */
const STALE_AFTER_MS = 30_000;

/** Whether a process with this pid exists (EPERM: it does, under another user). */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function tryCreate(lockFile: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, "wx", 0o644);
    try {
      await handle.writeFile(`${process.pid}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Takes over the lock file if its holder is gone or it is too old; true if it was (or had just been) removed. */
async function removeIfStale(lockFile: string): Promise<boolean> {
  let holder: number;
  let ageMs: number;
  try {
    holder = Number.parseInt(await readFile(lockFile, "utf8"), 10);
    ageMs = Date.now() - (await stat(lockFile)).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
  // A holder that has created the file but not yet written its pid reads as NaN: young, so not stale.
  const holderGone = Number.isInteger(holder) && holder > 0 && holder !== process.pid && !isProcessAlive(holder);
  if (!holderGone && ageMs < STALE_AFTER_MS) return false;
  const aside = path.join(path.dirname(lockFile), `${STALE_LOCK_PREFIX}${randomBytes(6).toString("hex")}`);
  try {
    await rename(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
  await rm(aside, { force: true });
  return true;
}

/**
 * Runs `work` holding the data directory's manifest lock.
 *
 * @throws VersionsError `EDGE_VERSIONS_LOCKED` when another live process
 *   held it for longer than `waitMs`
 */
export async function withManifestLock<T>(dataDir: string, work: () => Promise<T>, waitMs: number = LOCK_WAIT_MS): Promise<T> {
  const lockFile = path.join(dataDir, MANIFEST_LOCK_FILE_NAME);
  const deadline = performance.now() + waitMs;
  while (!(await tryCreate(lockFile))) {
    if (await removeIfStale(lockFile)) continue;
    if (performance.now() >= deadline) {
      throw new VersionsError("EDGE_VERSIONS_LOCKED", `another process has held ${lockFile} for more than ${waitMs} ms; retry`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  try {
    return await work();
  } finally {
    await rm(lockFile, { force: true });
  }
}
