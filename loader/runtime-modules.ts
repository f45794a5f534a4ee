/**
 * Runtime modules an app may import because the isolate has what they
 * export, as workerd has them: `node:buffer` (and bare `buffer`, when the
 * app has not installed the npm package of that name), which is the
 * isolate's `Buffer` global (sandbox/prelude/node-buffer.ts), and
 * `cloudflare:workers` (env at module level, WorkerEntrypoint and the
 * other base classes, waitUntil: sandbox/prelude/cloudflare-workers.ts).
 * The module is bundled as a few lines that read the globals when the app
 * loads; nothing of the host is behind it.
 */

/** The esbuild namespace of these modules. */
export const RUNTIME_MODULE_NAMESPACE = "edgehost-runtime";

const BUFFER_MODULE = `
const { Buffer, atob, btoa, Blob, File } = globalThis;
// The buffer package's limits (a Buffer is at most 2**31 - 1 bytes there).
export const kMaxLength = 0x7fffffff;
export const kStringMaxLength = 0x1fffffe8;
export const constants = Object.freeze({ MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: kStringMaxLength });
export const INSPECT_MAX_BYTES = 50;
export { Buffer, atob, btoa, Blob, File };
export default { Buffer, atob, btoa, Blob, File, kMaxLength, kStringMaxLength, constants, INSPECT_MAX_BYTES };
`;

/** The prelude's bridge for `cloudflare:workers` (sandbox/prelude/cloudflare-workers.ts), read once when the app loads. */
const WORKERS_MODULE = `
const bridge = globalThis[Symbol.for("edgehost.cloudflare:workers")];
export const { env, WorkerEntrypoint, DurableObject, WorkflowEntrypoint, RpcTarget, waitUntil } = bridge;
export default bridge;
`;

const MODULES: ReadonlyMap<string, string> = new Map([
  ["buffer", BUFFER_MODULE],
  ["node:buffer", BUFFER_MODULE],
  ["cloudflare:workers", WORKERS_MODULE],
]);

/** The source of the runtime module `specifier` stands for, or undefined if the isolate has none. */
export function runtimeModuleSource(specifier: string): string | undefined {
  return MODULES.get(specifier);
}
