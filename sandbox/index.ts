export { AppIsolate } from "./app-isolate.js";
export type { AppIsolateOptions, AppIsolateStats, SandboxLogEntry, SandboxRequest } from "./app-isolate.js";
export { EntryScheduler } from "./entry-scheduler.js";
export { SANDBOX_ERRORS, SandboxError, isSandboxError } from "./errors.js";
export type { SandboxErrorCode, SandboxErrorDetails } from "./errors.js";
export { DEFAULT_SANDBOX_LIMITS } from "./limits.js";
export type { SandboxLimits } from "./limits.js";
export type { SandboxResponse } from "./wire-response.js";
