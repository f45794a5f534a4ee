/**
 * The host functions, taken from the temporary global the host sets before
 * the prelude runs. They live only in this module's closure from here on:
 * the global is deleted before any tenant code runs, and no host function is
 * ever passed to tenant code or stored where tenant code can reach it.
 */
import { HOST_FUNCTION_NAMES, HOST_GLOBAL, type HostFunctions } from "./protocol.js";

function takeHostFunctions(): HostFunctions {
  const global = globalThis as unknown as Record<string, unknown>;
  const provided = global[HOST_GLOBAL] as Record<string, unknown> | undefined;
  delete global[HOST_GLOBAL];
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
