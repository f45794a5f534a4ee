import type { AppBundle } from "../loader/index.js";
import type { SandboxError } from "../sandbox/index.js";

/** The first stack frame that points into the app's sources, if any. */
function firstAppFrame(stack: string | undefined, bundle: AppBundle): string | undefined {
  if (stack === undefined) return undefined;
  const mapped = bundle.mapStack(stack);
  const match = /\(?([^\s()]+:\d+:\d+)\)?\s*$/m.exec(mapped.split("\n").find((line) => /^\s+at /.test(line)) ?? "");
  return match?.[1];
}

/**
 * One clear line for an app that cannot start, e.g.
 * `app.ts: app has no default export (expected: export default { fetch(request, env, ctx) {...} })`.
 */
export function startupFailureLine(entryName: string, error: SandboxError, bundle: AppBundle): string {
  switch (error.code) {
    case "EDGE_SANDBOX_NO_DEFAULT_EXPORT":
      return `${entryName}: app has no default export (expected: export default { fetch(request, env, ctx) { ... } })`;
    case "EDGE_SANDBOX_NO_FETCH_HANDLER":
      return `${entryName}: the default export has no fetch() method (expected: export default { fetch(request, env, ctx) { ... } })`;
    case "EDGE_SANDBOX_STARTUP_FAILED": {
      const frame = firstAppFrame(error.details.appStack, bundle);
      return `${entryName}: ${error.message}${frame ? ` (at ${frame})` : ""}`;
    }
    default:
      return `${entryName}: ${error.message}`;
  }
}
