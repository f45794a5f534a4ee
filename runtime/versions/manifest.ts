import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { isFailpointOn } from "../../sandbox/failpoints.js";
import type { ApiAppSettings } from "../config/api-app-settings.js";
import { VersionsError } from "./errors.js";

/** A version's id: unique in the store, also the name of its upload directory. */
export type VersionId = string;

/** sha256 of a bundle's code, lowercase hex: the name of its file under bundles/. */
export type BundleHash = string;

/** Where a version came from. */
export type VersionSourceKind = "upload" | "bundle" | "config";

/** One immutable version of an app. */
export interface Version {
  readonly id: VersionId;
  readonly bundleHash: BundleHash;
  /** The entry, relative to the upload's root (uploads), or as given (bundles and config). */
  readonly entry: string;
  /** ISO 8601, UTC. */
  readonly createdAt: string;
  readonly source: VersionSourceKind;
  readonly note?: string;
}

/** A canary: `percent` of requests go to `versionId`, the rest to the active version. */
export interface TrafficSplit {
  readonly versionId: VersionId;
  /** Integer, 0-100. */
  readonly percent: number;
}

/** One app's versions, oldest first, and which of them serve. */
export interface AppVersions {
  readonly versions: readonly Version[];
  readonly active: VersionId | null;
  /** The version active before `active`: what rollback returns to. */
  readonly previous: VersionId | null;
  readonly split: TrafficSplit | null;
  /**
   * Routes of an app created through the admin API (not in the config
   * file); absent for a config app, whose routes are the config's.
   */
  readonly routes?: readonly string[];
  /**
   * vars, limits and outbound allow list of an app created through the
   * admin API (runtime/config/api-app-settings.ts checks them); absent for
   * a config app, and for an API app deployed without any.
   */
  readonly settings?: StoredAppSettings;
}

/** An API app's settings as stored: checked on deploy, and again when served (the schema below only checks their shape). */
export type StoredAppSettings = ApiAppSettings;

/** The whole manifest.json. */
export interface Manifest {
  readonly format: 1;
  readonly apps: Readonly<Record<string, AppVersions>>;
}

export const EMPTY_MANIFEST: Manifest = { format: 1, apps: {} };

export const MANIFEST_FILE_NAME = "manifest.json";

/** Temp files of the atomic write: `manifest.json.tmp-<random>`, in the same directory so rename is atomic. */
export const MANIFEST_TEMP_PREFIX = `${MANIFEST_FILE_NAME}.tmp-`;

const versionSchema = z
  .object({
    id: z.string().min(1),
    bundleHash: z.string().regex(/^[0-9a-f]{64}$/),
    entry: z.string(),
    createdAt: z.string(),
    source: z.enum(["upload", "bundle", "config"]),
    note: z.string().optional(),
  })
  .strict();

const appSchema = z
  .object({
    versions: z.array(versionSchema),
    active: z.string().nullable(),
    previous: z.string().nullable(),
    split: z.object({ versionId: z.string(), percent: z.number().int().min(0).max(100) }).strict().nullable(),
    routes: z.array(z.string()).optional(),
    settings: z
      .object({
        vars: z.record(z.string()).optional(),
        limits: z.record(z.number()).optional(),
        outbound: z.object({ allow: z.array(z.string()).optional() }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((app, context) => {
    const ids = new Set(app.versions.map((version) => version.id));
    if (ids.size !== app.versions.length) context.addIssue({ code: z.ZodIssueCode.custom, message: "duplicate version ids" });
    for (const field of ["active", "previous"] as const) {
      const id = app[field];
      if (id !== null && !ids.has(id)) context.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `names unknown version ${id}` });
    }
    if (app.split !== null && !ids.has(app.split.versionId)) {
      context.addIssue({ code: z.ZodIssueCode.custom, path: ["split"], message: `names unknown version ${app.split.versionId}` });
    }
  });

const manifestSchema = z.object({ format: z.literal(1), apps: z.record(appSchema) }).strict();

/**
 * Reads the manifest: a missing file is an empty store; anything unreadable,
 * not JSON or not a valid manifest is an error naming the file, never a
 * silent reset (that would drop every deployed version).
 *
 * @throws VersionsError `EDGE_VERSIONS_CORRUPT_MANIFEST`
 */
export async function readManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return EMPTY_MANIFEST;
    throw new VersionsError("EDGE_VERSIONS_CORRUPT_MANIFEST", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new VersionsError("EDGE_VERSIONS_CORRUPT_MANIFEST", `${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new VersionsError("EDGE_VERSIONS_CORRUPT_MANIFEST", `${file} is not a valid manifest: ${problems.join("; ")}`);
  }
  return parsed.data as Manifest;
}

/** fsyncs a directory, so a rename or a new entry in it survives a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the manifest atomically: a temp file in the same directory, fsynced,
 * renamed over manifest.json, then the directory fsynced. A crash at any
 * point leaves either the old manifest or the new one, never a mix; a temp
 * file left behind is removed by the next open.
 */
export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `${MANIFEST_TEMP_PREFIX}${randomBytes(6).toString("hex")}`);
  const handle = await open(temp, "wx", 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  if (isFailpointOn("manifest-crash-before-rename")) {
    process.kill(process.pid, "SIGKILL");
    // The signal is on its way; nothing after this point may run.
    await new Promise<never>(() => undefined);
  }
  await rename(temp, file);
  await syncDir(dir);
}
