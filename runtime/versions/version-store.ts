import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { bundleApp } from "../../loader/index.js";
import { APP_NAME } from "../config/schema.js";
import { AsyncMutex } from "./async-mutex.js";
import { STALE_LOCK_PREFIX, withManifestLock } from "./manifest-lock.js";
import { BUNDLE_TEMP_PREFIX, loadBundleFile, storeBundle } from "./bundle-files.js";
import { VersionsError } from "./errors.js";
import { EMPTY_MANIFEST, MANIFEST_FILE_NAME, MANIFEST_TEMP_PREFIX, readManifest, writeManifest } from "./manifest.js";
import type { AppVersions, BundleHash, Manifest, StoredAppSettings, TrafficSplit, Version, VersionId } from "./manifest.js";
import { UPLOAD_STAGING_PREFIX, writeUploadDir } from "./upload-dir.js";
import { DEFAULT_UPLOAD_LIMITS, checkUpload } from "./upload-paths.js";
import type { CheckedFile, UploadFiles, UploadLimits } from "./upload-paths.js";

/** What a new version is made from. */
export type VersionInput =
  /** Source files, built confined to their own tree; `entry` is one of the paths. */
  | { readonly kind: "upload"; readonly files: UploadFiles; readonly entry: string; readonly note?: string }
  /** A ready bundle (an IIFE assigning `__edgehost_app`), from an upload or from the config's entry. */
  | { readonly kind: "bundle" | "config"; readonly code: string; readonly entry?: string; readonly note?: string };

/** Options of {@link VersionStore.addVersion}. */
export interface AddVersionOptions {
  /** Routes of an app created through the admin API; replaces the ones stored. */
  readonly routes?: readonly string[];
  /** Settings of an app created through the admin API (checked by the caller); replaces the ones stored. */
  readonly settings?: StoredAppSettings;
}

/** Options of {@link VersionStore.open}. */
export interface VersionStoreOptions {
  /** Caps on an upload (and, `maxFileBytes`, on a bundle). Default {@link DEFAULT_UPLOAD_LIMITS}. */
  readonly uploadLimits?: UploadLimits;
}

const NO_VERSIONS: AppVersions = { versions: [], active: null, previous: null, split: null };

function checkAppName(app: string): void {
  if (!APP_NAME.test(app)) {
    throw new VersionsError("EDGE_VERSIONS_BAD_APP_NAME", `invalid app name ${JSON.stringify(app)}: 1 to 63 lower-case letters, digits and hyphens`);
  }
}

/**
 * Immutable versions of apps under a data directory:
 *
 * - `uploads/<versionId>/`: an upload's files, as uploaded;
 * - `bundles/<sha256>.js`: built bundles by content hash, written once and
 *   shared by identical builds;
 * - `manifest.json`: per app, its versions in order, the active one, the
 *   previous one and a traffic split; written atomically.
 *
 * Every operation that changes the manifest runs under one mutex and the
 * data directory's lock file (manifest-lock.ts), and starts by reading the
 * manifest again: two deploys cannot interleave their writes, in one process
 * or in two (the front ends of a hand-over), and none loses another's.
 * Building an upload runs outside them (it touches only a temporary
 * directory of its own), so a slow build does not hold up a rollback.
 */
export class VersionStore {
  private readonly mutex = new AsyncMutex();

  private constructor(
    /** The data directory, as given to {@link VersionStore.open}. */
    readonly dataDir: string,
    private manifest: Manifest,
    private readonly uploadLimits: UploadLimits,
  ) {}

  private get uploadsDir(): string {
    return path.join(this.dataDir, "uploads");
  }

  private get bundlesDir(): string {
    return path.join(this.dataDir, "bundles");
  }

  private get manifestFile(): string {
    return path.join(this.dataDir, MANIFEST_FILE_NAME);
  }

  /**
   * Opens (creating its directories) the store in `dataDir` and reads its
   * manifest; a missing manifest is an empty store. Leftovers of a crash
   * (manifest temp files, staging uploads, bundle temp files) are removed.
   *
   * @throws VersionsError `EDGE_VERSIONS_CORRUPT_MANIFEST` naming the file
   */
  static async open(dataDir: string, options: VersionStoreOptions = {}): Promise<VersionStore> {
    const dir = path.resolve(dataDir);
    await mkdir(path.join(dir, "uploads"), { recursive: true });
    await mkdir(path.join(dir, "bundles"), { recursive: true });
    // Under the lock: the temp files of another front end's change in progress are not leftovers.
    const manifest = await withManifestLock(dir, async () => {
      await removeLeftovers(dir);
      return readManifest(path.join(dir, MANIFEST_FILE_NAME));
    });
    return new VersionStore(dir, manifest, options.uploadLimits ?? DEFAULT_UPLOAD_LIMITS);
  }

  /** The app's versions, oldest first; empty for an unknown app. */
  versions(app: string): readonly Version[] {
    return this.appState(app).versions;
  }

  /** The app's active version, or null (unknown app, or nothing activated yet). */
  active(app: string): Version | null {
    const state = this.appState(app);
    return state.versions.find((version) => version.id === state.active) ?? null;
  }

  /** The app's whole state: versions, active, previous, split. */
  appState(app: string): AppVersions {
    return this.manifest.apps[app] ?? NO_VERSIONS;
  }

  /** Names of the apps with versions, sorted. */
  apps(): string[] {
    return Object.keys(this.manifest.apps).sort();
  }

  /**
   * Adds a version, stored but not active. An upload's paths are checked,
   * its files written to `uploads/<id>/` and built confined to that tree; a
   * failed build removes the directory and throws the loader's error
   * (EDGE_LOADER_*), leaving the store as it was.
   *
   * @throws VersionsError (bad app name, upload path and size codes), LoaderError
   */
  async addVersion(app: string, input: VersionInput, options: AddVersionOptions = {}): Promise<Version> {
    checkAppName(app);
    const id: VersionId = randomUUID();
    let code: string;
    let entry: string;
    let uploadFiles: readonly CheckedFile[] | undefined;
    if (input.kind === "upload") {
      const files = checkUpload(input.files, this.uploadLimits);
      if (!files.some((file) => file.path === input.entry)) {
        throw new VersionsError("EDGE_VERSIONS_UPLOAD_NO_ENTRY", `upload entry ${JSON.stringify(input.entry)} is not one of its files`);
      }
      code = await buildConfined(files, input.entry);
      uploadFiles = files;
      entry = input.entry;
    } else {
      const bytes = Buffer.byteLength(input.code);
      if (bytes > this.uploadLimits.maxFileBytes) {
        throw new VersionsError("EDGE_VERSIONS_UPLOAD_FILE_TOO_LARGE", `bundle is ${bytes} bytes; at most ${this.uploadLimits.maxFileBytes}`);
      }
      code = input.code;
      entry = input.entry ?? "";
    }
    return this.exclusive(async () => {
      // Under the lock: a front end opening the store sweeps staging directories left by a crash.
      if (uploadFiles !== undefined) await writeUploadDir(this.uploadsDir, id, uploadFiles);
      const bundleHash: BundleHash = await storeBundle(this.bundlesDir, code);
      const version: Version = {
        id,
        bundleHash,
        entry,
        createdAt: new Date().toISOString(),
        source: input.kind,
        ...(input.note === undefined ? {} : { note: input.note }),
      };
      const state = this.appState(app);
      const routes = options.routes ?? state.routes;
      const settings = options.settings ?? state.settings;
      await this.commit(app, {
        ...state,
        versions: [...state.versions, version],
        ...(routes === undefined ? {} : { routes }),
        ...(settings === undefined ? {} : { settings }),
      });
      return version;
    });
  }

  /**
   * Makes `versionId` the app's active version; the one it replaces becomes
   * `previous`. A split towards the new active version is cleared (it would
   * split traffic between a version and itself). Activating the active
   * version changes nothing.
   *
   * @throws VersionsError `EDGE_VERSIONS_UNKNOWN_APP`, `EDGE_VERSIONS_UNKNOWN_VERSION`
   */
  async activate(app: string, versionId: VersionId): Promise<Version> {
    return this.exclusive(async () => {
      const state = this.knownApp(app);
      const version = findVersion(app, state, versionId);
      if (state.active === versionId) return version;
      const split = state.split?.versionId === versionId ? null : state.split;
      await this.commit(app, { ...state, active: versionId, previous: state.active, split });
      return version;
    });
  }

  /**
   * Makes the previous version active again; the version it replaces
   * becomes `previous`, so a second rollback undoes the first. Any split is
   * cleared: a rollback is the way back to one known version.
   *
   * @throws VersionsError `EDGE_VERSIONS_UNKNOWN_APP`, `EDGE_VERSIONS_NO_PREVIOUS`
   */
  async rollback(app: string): Promise<Version> {
    return this.exclusive(async () => {
      const state = this.knownApp(app);
      if (state.previous === null) throw new VersionsError("EDGE_VERSIONS_NO_PREVIOUS", `app ${app} has no previous version to roll back to`);
      const version = findVersion(app, state, state.previous);
      await this.commit(app, { ...state, active: state.previous, previous: state.active, split: null });
      return version;
    });
  }

  /**
   * Sends `percent` (an integer 0-100) of the app's requests to `versionId`
   * instead of the active version (see {@link pickVersion}).
   *
   * @throws VersionsError `EDGE_VERSIONS_BAD_SPLIT` (no active version, the
   *   active version itself, a bad percent), `EDGE_VERSIONS_UNKNOWN_VERSION`
   */
  async setSplit(app: string, versionId: VersionId, percent: number): Promise<TrafficSplit> {
    return this.exclusive(async () => {
      const state = this.knownApp(app);
      findVersion(app, state, versionId);
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
        throw new VersionsError("EDGE_VERSIONS_BAD_SPLIT", `split percent must be an integer from 0 to 100, not ${percent}`);
      }
      if (state.active === null) throw new VersionsError("EDGE_VERSIONS_BAD_SPLIT", `app ${app} has no active version to split traffic with`);
      if (state.active === versionId) throw new VersionsError("EDGE_VERSIONS_BAD_SPLIT", `version ${versionId} is already the active version`);
      const split: TrafficSplit = { versionId, percent };
      await this.commit(app, { ...state, split });
      return split;
    });
  }

  /** Ends the app's traffic split, if any. @throws VersionsError `EDGE_VERSIONS_UNKNOWN_APP` */
  async clearSplit(app: string): Promise<void> {
    return this.exclusive(async () => {
      const state = this.knownApp(app);
      if (state.split !== null) await this.commit(app, { ...state, split: null });
    });
  }

  /**
   * Removes the app from the manifest, then its upload directories. Bundles
   * stay: identical builds of other apps may share them.
   *
   * @throws VersionsError `EDGE_VERSIONS_UNKNOWN_APP`
   */
  async removeApp(app: string): Promise<void> {
    return this.exclusive(async () => {
      const state = this.knownApp(app);
      await this.commit(app, null);
      for (const version of state.versions) {
        if (version.source === "upload") await rm(path.join(this.uploadsDir, version.id), { recursive: true, force: true });
      }
    });
  }

  /**
   * Removes a version that never served (a deploy whose boot failed): it
   * must be neither active, previous nor the split's. An app left with no
   * versions is removed as a whole, so a failed first deploy leaves nothing.
   *
   * @throws VersionsError `EDGE_VERSIONS_UNKNOWN_APP`, `EDGE_VERSIONS_UNKNOWN_VERSION`, `EDGE_VERSIONS_VERSION_IN_USE`
   */
  async discardVersion(app: string, versionId: VersionId, restore?: { readonly routes: readonly string[] | undefined; readonly settings: StoredAppSettings | undefined }): Promise<void> {
    return this.exclusive(async () => {
      const state = this.knownApp(app);
      const version = findVersion(app, state, versionId);
      if (state.active === versionId || state.previous === versionId || state.split?.versionId === versionId) {
        throw new VersionsError("EDGE_VERSIONS_VERSION_IN_USE", `version ${versionId} of app ${app} is active, previous or in a split`);
      }
      const versions = state.versions.filter((candidate) => candidate.id !== versionId);
      // `restore`: the routes and settings from before the version's addVersion (which replaced them).
      const kept: AppVersions =
        restore === undefined
          ? state
          : {
              versions: state.versions,
              active: state.active,
              previous: state.previous,
              split: state.split,
              ...(restore.routes === undefined ? {} : { routes: restore.routes }),
              ...(restore.settings === undefined ? {} : { settings: restore.settings }),
            };
      await this.commit(app, versions.length === 0 && state.active === null ? null : { ...kept, versions });
      if (version.source === "upload") await rm(path.join(this.uploadsDir, version.id), { recursive: true, force: true });
    });
  }

  /**
   * Reads the manifest again, for a front end that did not make the
   * changes (a standby being promoted, after another front end deployed).
   *
   * @throws VersionsError `EDGE_VERSIONS_CORRUPT_MANIFEST`
   */
  async refresh(): Promise<void> {
    return this.mutex.run(async () => {
      this.manifest = await readManifest(this.manifestFile);
    });
  }

  /** A stored bundle's code, checked against its hash. @throws VersionsError `EDGE_VERSIONS_BUNDLE_NOT_FOUND`, `EDGE_VERSIONS_BUNDLE_CORRUPT` */
  async loadBundle(hash: BundleHash): Promise<string> {
    return loadBundleFile(this.bundlesDir, hash);
  }

  /**
   * Runs a change: one at a time in this process (the mutex), one at a
   * time across processes (the lock file), from the manifest as it is on
   * disk now, which another front end may have changed.
   */
  private exclusive<T>(change: () => Promise<T>): Promise<T> {
    return this.mutex.run(() =>
      withManifestLock(this.dataDir, async () => {
        this.manifest = await readManifest(this.manifestFile);
        return change();
      }),
    );
  }

  private knownApp(app: string): AppVersions {
    const state = this.manifest.apps[app];
    if (state === undefined) throw new VersionsError("EDGE_VERSIONS_UNKNOWN_APP", `no app named ${JSON.stringify(app)}`);
    return state;
  }

  /** Writes the manifest with the app's new state (null removes it); memory changes only once the file is in place. */
  private async commit(app: string, state: AppVersions | null): Promise<void> {
    const apps: Record<string, AppVersions> = { ...this.manifest.apps };
    if (state === null) delete apps[app];
    else apps[app] = state;
    const next: Manifest = { ...EMPTY_MANIFEST, apps };
    await writeManifest(this.manifestFile, next);
    this.manifest = next;
  }
}

/**
 * Builds checked upload files confined to their own tree. They are staged
 * in a fresh directory under the system's temp dir, not under the data
 * directory: esbuild reads every package.json above a file, and a data
 * directory usually lies inside the operator's project, so the confined
 * build would (rightly) refuse to run there. The staging copy goes when
 * the build is done.
 *
 * @throws LoaderError (EDGE_LOADER_*: build failures, escapes, input limits)
 */
async function buildConfined(files: readonly CheckedFile[], entry: string): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "edgehost-build-"));
  try {
    await writeUploadDir(root, "app", files);
    return (await bundleApp(entry, { confine: { root: path.join(root, "app") } })).code;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function findVersion(app: string, state: AppVersions, versionId: VersionId): Version {
  const version = state.versions.find((candidate) => candidate.id === versionId);
  if (version === undefined) throw new VersionsError("EDGE_VERSIONS_UNKNOWN_VERSION", `app ${app} has no version ${JSON.stringify(versionId)}`);
  return version;
}

/** Removes what a crash can leave behind: manifest temp files, a stale lock being taken over, staging uploads, bundle temp files. */
async function removeLeftovers(dataDir: string): Promise<void> {
  const sweep = async (dir: string, prefix: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      if (name.startsWith(prefix)) await rm(path.join(dir, name), { recursive: true, force: true });
    }
  };
  await sweep(dataDir, MANIFEST_TEMP_PREFIX);
  await sweep(dataDir, STALE_LOCK_PREFIX);
  await sweep(path.join(dataDir, "uploads"), UPLOAD_STAGING_PREFIX);
  await sweep(path.join(dataDir, "bundles"), BUNDLE_TEMP_PREFIX);
}
