export { VERSIONS_ERRORS, VersionsError, isVersionsError } from "./errors.js";
export type { VersionsErrorCode } from "./errors.js";
export type { AppVersions, BundleHash, Manifest, StoredAppSettings, TrafficSplit, Version, VersionId, VersionSourceKind } from "./manifest.js";
export { pickVersion, splitBucket } from "./pick-version.js";
export { DEFAULT_UPLOAD_LIMITS, checkUpload, checkUploadPath } from "./upload-paths.js";
export type { UploadFiles, UploadLimits } from "./upload-paths.js";
export { VersionStore } from "./version-store.js";
export { MANIFEST_FILE_NAME } from "./manifest.js";
export type { AddVersionOptions, VersionInput, VersionStoreOptions } from "./version-store.js";
