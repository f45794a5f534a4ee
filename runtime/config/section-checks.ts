/**
 * Checks that combine sections of a config the schema has accepted: the
 * admin listener's address and token, and limits that another section makes
 * impossible to honour. They need the defaults applied, so they run once the
 * schema has passed (the only checks that wait for it).
 */
import { isIP } from "node:net";
import type { PathIssue } from "./issues.js";
import { mergeLimits } from "./limits.js";
import type { ServeConfigFile } from "./schema.js";
import type { Secret } from "./secret.js";
import { readSecret, type Environment } from "./secrets.js";

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  const lower = host.toLowerCase();
  return lower === "::1" || /^::ffff:127\./.test(lower);
}

function isUnspecified(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/**
 * The admin token, and whether the admin section is usable. uWS listens with
 * SO_REUSEPORT, so two listeners on one port would silently share it rather
 * than fail: refused here.
 */
export function adminIssues(file: ServeConfigFile, env: Environment): { token?: Secret; issues: PathIssue[] } {
  const { admin, listen } = file;
  if (admin === undefined) return { issues: [] };
  const issues: PathIssue[] = [];
  const samePort = admin.port !== 0 && admin.port === listen.port;
  if (samePort && (admin.host === listen.host || isUnspecified(admin.host) || isUnspecified(listen.host))) {
    issues.push({ parts: ["admin", "port"], message: `the admin listener cannot share the port of listen (${listen.host}:${listen.port})` });
  }
  const token = readSecret({ env: admin.tokenEnv }, "", env);
  if (typeof token !== "string") return { token, issues };
  const problem = token;
  if (!isLoopbackHost(admin.host)) {
    issues.push({ parts: ["admin", "tokenEnv"], message: `${problem}: a token is required when the admin listener is not loopback (admin.host ${admin.host})` });
  }
  return { issues };
}

/**
 * Limits and cache bounds that contradict each other: an isolate whose
 * heap limit exceeds the cache's whole memory budget could never stay warm,
 * and more replicas than the cache holds could never exist.
 */
export function cacheIssues(file: ServeConfigFile): PathIssue[] {
  const issues: PathIssue[] = [];
  const { cache } = file;
  if (cache.replicas > cache.maxIsolates) {
    issues.push({ parts: ["cache", "replicas"], message: `${cache.replicas} replicas per app exceed cache.maxIsolates (${cache.maxIsolates})` });
  }
  const tooLarge = (memoryMb: number): string =>
    `${memoryMb} MB exceeds cache.maxMemoryMb (${cache.maxMemoryMb}): the isolate could never stay warm`;
  const defaults = mergeLimits(undefined, file.defaults.limits);
  const defaultsTooLarge = defaults.memoryMb > cache.maxMemoryMb;
  if (defaultsTooLarge) issues.push({ parts: ["defaults", "limits", "memoryMb"], message: tooLarge(defaults.memoryMb) });
  file.apps.forEach((app, index) => {
    const own = app.limits.memoryMb;
    // Apps inheriting the default are covered by the one issue above.
    if (own !== undefined && own > cache.maxMemoryMb) issues.push({ parts: ["apps", index, "limits", "memoryMb"], message: tooLarge(own) });
  });
  return issues;
}
