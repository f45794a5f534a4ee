/**
 * File name under which the sandbox compiles a bundle. V8 stack frames of app
 * code then read `app.js:LINE:COL`, which {@link AppBundle.mapStack} maps back
 * to the app's sources. The sandbox must not import the loader, so the runtime
 * hands this constant to it.
 */
export const BUNDLE_FILENAME = "app.js";

/**
 * Global variable the bundle (an IIFE) assigns its module namespace to; the
 * sandbox reads `__edgehost_app.default.fetch`.
 */
export const BUNDLE_GLOBAL_NAME = "__edgehost_app";

/** Entry file extensions the loader bundles. */
export const SUPPORTED_ENTRY_EXTENSIONS: readonly string[] = [".ts", ".js", ".mjs", ".mts", ".cjs"];

/** A bundled app, ready to be compiled in an isolate as {@link BUNDLE_FILENAME}. */
export interface AppBundle {
  /** Absolute, symlink-free path of the entry file. */
  readonly entryPath: string;
  /** The bundle: an IIFE script assigning {@link BUNDLE_GLOBAL_NAME}, with an inline source map. */
  readonly code: string;
  /** sha256 of `code`, lowercase hex. */
  readonly hash: string;
  /** Absolute paths of every source file that went into the bundle (the entry included). */
  readonly inputs: readonly string[];
  /** True when the bundle came from the cache and esbuild was not run. */
  readonly fromCache: boolean;
  /**
   * Rewrites every `app.js:LINE:COL` position in a V8 stack to
   * `<source path relative to the entry's directory>:LINE:COL`. Positions the
   * source map does not cover are left unchanged. The map is parsed on first use.
   */
  mapStack(stack: string): string;
}

/** Options of `bundleApp`. */
export interface BundleAppOptions {
  /**
   * Directory holding cached bundles and their manifests.
   * Default: `.edgehost-cache/` in the entry's directory (created on demand).
   */
  readonly cacheDir?: string | undefined;
  /** Set to false to neither read nor write the cache. Default: true. */
  readonly cache?: boolean | undefined;
  /**
   * Confines the build to one directory tree (an uploaded, untrusted app):
   * see {@link ConfineOptions}. A confined build never uses the bundle cache
   * (the cache would write into the tree and re-read files outside the guard).
   */
  readonly confine?: ConfineOptions | undefined;
}

/**
 * Options of a confined build. Every file the build reads must lie, after
 * symlinks are resolved, inside `root`; the entry must too.
 */
export interface ConfineOptions {
  /** The directory tree the build may read. */
  readonly root: string;
  /** Most source files the build may load. Default {@link DEFAULT_CONFINED_MAX_FILES}. */
  readonly maxFiles?: number | undefined;
  /** Most bytes of source the build may load, all files together. Default {@link DEFAULT_CONFINED_MAX_TOTAL_BYTES}. */
  readonly maxTotalBytes?: number | undefined;
}

/** Default cap on the files a confined build loads. */
export const DEFAULT_CONFINED_MAX_FILES = 2000;

/** Default cap on the bytes a confined build loads (32 MiB). */
export const DEFAULT_CONFINED_MAX_TOTAL_BYTES = 32 * 1024 * 1024;
