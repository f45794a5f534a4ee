export {
  BUNDLE_FILENAME,
  BUNDLE_GLOBAL_NAME,
  DEFAULT_CONFINED_MAX_FILES,
  DEFAULT_CONFINED_MAX_TOTAL_BYTES,
  SUPPORTED_ENTRY_EXTENSIONS,
} from "./app-bundle.js";
export type { AppBundle, BundleAppOptions, ConfineOptions } from "./app-bundle.js";
export { appBundleFromCode, bundleApp, DEFAULT_CACHE_DIR_NAME } from "./bundle-app.js";
export { LOADER_ERROR_CODES, LoaderError, isLoaderError } from "./errors.js";
export type { LoaderErrorCode } from "./errors.js";
export { WATCH_DEBOUNCE_MS, watchApp } from "./watch-app.js";
export type { AppWatcher } from "./watch-app.js";
