/**
 * URLPattern (the WHATWG URL Pattern Standard), which workerd provides and
 * V8 does not: urlpattern-polyfill, loaded from the host the first time the
 * global is read (a lazy module, see streams-lazy-module.ts), so an idle
 * isolate holds none of its 19 KB. The polyfill resolves the `URL` global
 * when it runs: in a tenant's isolate that is the tenant's own URL.
 */
import { lazyGlobalDescriptor } from "./lazy-global.js";
import { loadLazyModule } from "./streams-lazy-module.js";

/** Defines `URLPattern` on `target` as a global that loads the polyfill when first read (lazy-global.ts). */
export function installLazyUrlPattern(target: object): void {
  Object.defineProperty(target, "URLPattern", lazyGlobalDescriptor(target, "URLPattern", () => loadLazyModule<{ URLPattern: unknown }>("urlpattern").URLPattern));
}
