/**
 * Loads a module the host keeps out of the prelude script (see
 * protocol.ts loadModule): the host hands over its trusted source, which is
 * evaluated here once. `eval` is captured when the prelude loads, before
 * tenant code can replace it.
 */
import { host } from "./host.js";
import { LAZY_MODULE_MARKER, type LAZY_MODULE_NAMES } from "./protocol.js";

const indirectEval = globalThis.eval;
const startsWith = String.prototype.startsWith;
const { apply } = Reflect;
const loaded = new Map<string, unknown>();
/**
 * Why a module could not be loaded, kept: each attempt is a host call that
 * copies the module's source (up to 240 KB) on the host's event loop, and a
 * module can fail for good (tenant code broke a built-in its code calls
 * while loading), so a tenant reading a lazy global in a loop must not
 * make the host repeat it.
 */
const failed = new Map<string, unknown>();

/** The exports of lazy module `name`, evaluating it on the first call; throws if the host cannot provide it or it fails to load, then and on every later call. */
export function loadLazyModule<T>(name: (typeof LAZY_MODULE_NAMES)[number]): T {
  if (loaded.has(name)) return loaded.get(name) as T;
  if (failed.has(name)) throw failed.get(name);
  try {
    const source = host.loadModule(name);
    if (typeof source !== "string" || !apply(startsWith, source, [LAZY_MODULE_MARKER])) {
      throw new TypeError(`edgehost prelude: module ${name} is not available (${String(source)})`);
    }
    const exports = indirectEval(source) as T;
    loaded.set(name, exports);
    return exports;
  } catch (error) {
    failed.set(name, error);
    throw error;
  }
}
