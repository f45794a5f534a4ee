/**
 * The host functions, taken from the temporary global the host sets before
 * the prelude runs. They live only in this module's closure from here on:
 * the global is deleted before any tenant code runs, and no host function is
 * ever passed to tenant code or stored where tenant code can reach it.
 */
import { HOST_FUNCTION_NAMES, HOST_GLOBAL, HOST_APP_ENV, type HostFunctions } from "./protocol.js";

const global = globalThis as unknown as Record<string, unknown>;
const provided = global[HOST_GLOBAL] as Record<string, unknown> | undefined;
delete global[HOST_GLOBAL];

function takeHostFunctions(): HostFunctions {
  if (typeof provided !== "object" || provided === null) {
    throw new TypeError(`edgehost prelude: global ${HOST_GLOBAL} is missing`);
  }
  const taken: Record<string, unknown> = Object.create(null);
  for (const name of HOST_FUNCTION_NAMES) {
    const fn = provided[name];
    if (typeof fn !== "function") throw new TypeError(`edgehost prelude: host function ${name} is missing`);
    taken[name] = fn;
  }
  return Object.freeze(taken) as unknown as HostFunctions;
}

/** The host functions (see protocol.ts for what each does). */
export const host: HostFunctions = takeHostFunctions();

/** The app's text bindings as the host gave them before its code ran (string values only). */
function takeAppEnv(): Readonly<Record<string, string>> {
  const env = typeof provided === "object" && provided !== null ? provided[HOST_APP_ENV] : undefined;
  const taken: Record<string, string> = {};
  if (typeof env !== "object" || env === null) return taken;
  for (const name of Object.keys(env)) {
    const value = (env as Record<string, unknown>)[name];
    if (typeof value === "string") taken[name] = value;
  }
  return taken;
}

/** See takeAppEnv: each of env's three faces (a request's env, process.env, cloudflare:workers' env) is a copy of it. */
export const appEnvAtBoot: Readonly<Record<string, string>> = takeAppEnv();
