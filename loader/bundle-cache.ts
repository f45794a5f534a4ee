import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { hashFile, sha256Hex } from "./content-hash.js";

/** Bumped whenever the manifest layout or the meaning of its fields changes. */
const MANIFEST_VERSION = 1;

/** Files esbuild reads besides the sources (module type, tsconfig settings, package fields). */
const CONFIG_FILE_NAMES: readonly string[] = ["package.json", "tsconfig.json", "jsconfig.json"];

/** A file and its sha256 at build time; null records that the file did not exist. */
export interface FileDigest {
  readonly path: string;
  readonly sha256: string | null;
}

/** What identifies a build besides the contents of its files. */
export interface BuildIdentity {
  /** Absolute, symlink-free entry path. */
  readonly entryPath: string;
  readonly esbuildVersion: string;
  /** Hash of every build option that shapes the output. */
  readonly optionsFingerprint: string;
}

/** A bundle as stored in and returned by the cache. */
export interface CachedBuild {
  readonly code: string;
  /** sha256 of `code`, lowercase hex. */
  readonly hash: string;
  /** Absolute paths of the bundle's source files. */
  readonly inputs: readonly string[];
}

interface CacheManifest extends BuildIdentity {
  readonly version: number;
  readonly inputs: readonly FileDigest[];
  readonly configFiles: readonly FileDigest[];
  readonly outputHash: string;
}

function isFileDigest(value: unknown): value is FileDigest {
  if (typeof value !== "object" || value === null) return false;
  const digest = value as Record<string, unknown>;
  return typeof digest["path"] === "string" && (typeof digest["sha256"] === "string" || digest["sha256"] === null);
}

function isManifest(value: unknown): value is CacheManifest {
  if (typeof value !== "object" || value === null) return false;
  const manifest = value as Record<string, unknown>;
  const inputs = manifest["inputs"];
  const configFiles = manifest["configFiles"];
  return (
    manifest["version"] === MANIFEST_VERSION &&
    typeof manifest["entryPath"] === "string" &&
    typeof manifest["esbuildVersion"] === "string" &&
    typeof manifest["optionsFingerprint"] === "string" &&
    typeof manifest["outputHash"] === "string" &&
    Array.isArray(inputs) &&
    inputs.every(isFileDigest) &&
    Array.isArray(configFiles) &&
    configFiles.every(isFileDigest)
  );
}

/** Where one entry's manifest and bundle live in `cacheDir`. */
function cacheFiles(cacheDir: string, identity: BuildIdentity): { manifest: string; bundle: string } {
  const key = sha256Hex(`${identity.entryPath}\0${identity.optionsFingerprint}`).slice(0, 24);
  const stem = `${path.basename(identity.entryPath).replace(/[^\w.-]/g, "_")}-${key}`;
  return { manifest: path.join(cacheDir, `${stem}.manifest.json`), bundle: path.join(cacheDir, `${stem}.js`) };
}

async function digestsMatch(digests: readonly FileDigest[]): Promise<boolean> {
  const current = await Promise.all(digests.map((digest) => hashFile(digest.path)));
  return digests.every((digest, index) => current[index] === digest.sha256);
}

/**
 * The config files esbuild may consult for these inputs: package.json,
 * tsconfig.json and jsconfig.json in every ancestor directory of every
 * input, with null for the absent ones so that adding one also invalidates.
 */
export async function digestConfigFiles(inputs: readonly string[]): Promise<FileDigest[]> {
  const dirs = new Set<string>();
  for (const input of inputs) {
    let dir = path.dirname(input);
    while (!dirs.has(dir)) {
      dirs.add(dir);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  const files = [...dirs].sort().flatMap((dir) => CONFIG_FILE_NAMES.map((name) => path.join(dir, name)));
  const hashes = await Promise.all(files.map(hashFile));
  return files.map((file, index) => ({ path: file, sha256: hashes[index] ?? null }));
}

/**
 * Returns the cached bundle for `identity` when its manifest is intact, was
 * made by the same esbuild version and options, every input and config file
 * still has the recorded hash, and the stored bundle has the recorded hash.
 * Anything else (no cache, a corrupt or foreign manifest, an edited file)
 * returns null: the cache never fails a build.
 */
export async function readCachedBuild(cacheDir: string, identity: BuildIdentity): Promise<CachedBuild | null> {
  const files = cacheFiles(cacheDir, identity);
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(files.manifest, "utf8"));
  } catch {
    return null;
  }
  if (
    !isManifest(manifest) ||
    manifest.entryPath !== identity.entryPath ||
    manifest.esbuildVersion !== identity.esbuildVersion ||
    manifest.optionsFingerprint !== identity.optionsFingerprint
  ) {
    return null;
  }
  if (!(await digestsMatch(manifest.inputs)) || !(await digestsMatch(manifest.configFiles))) return null;
  let code: string;
  try {
    code = await readFile(files.bundle, "utf8");
  } catch {
    return null;
  }
  if (sha256Hex(code) !== manifest.outputHash) return null;
  return { code, hash: manifest.outputHash, inputs: manifest.inputs.map((input) => input.path) };
}

/** Writes `data` to a temporary file beside `file`, then renames it over `file`, so readers never see half a file. */
async function writeFileAtomic(file: string, data: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Stores a bundle and its manifest (bundle first, so a manifest never names a
 * bundle that is not there yet). Creates `cacheDir` if needed. Rejects when
 * the cache cannot be written; callers treat that as non-fatal.
 */
export async function writeCachedBuild(
  cacheDir: string,
  identity: BuildIdentity,
  build: { readonly code: string; readonly hash: string; readonly inputs: readonly FileDigest[]; readonly configFiles: readonly FileDigest[] },
): Promise<void> {
  const files = cacheFiles(cacheDir, identity);
  await mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(files.bundle, build.code);
  const manifest: CacheManifest = {
    version: MANIFEST_VERSION,
    entryPath: identity.entryPath,
    esbuildVersion: identity.esbuildVersion,
    optionsFingerprint: identity.optionsFingerprint,
    inputs: build.inputs,
    configFiles: build.configFiles,
    outputHash: build.hash,
  };
  await writeFileAtomic(files.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
}
