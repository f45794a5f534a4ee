/**
 * URLPattern (the WHATWG URL Pattern Standard), which workerd provides and
 * V8 does not: urlpattern-polyfill, loaded from the host the first time the
 * global is read (a lazy module, see streams-lazy-module.ts), so an idle
 * isolate holds none of its 19 KB. The polyfill resolves the `URL` global
 * when it runs: in a tenant's isolate that is the tenant's own URL.
 */
import { loadLazyModule } from "./streams-lazy-module.js";

/** Puts a `URLPattern` accessor on `target` that loads the class on first read and then becomes a plain value. */
export function installLazyUrlPattern(target: object): void {
  const settle = (value: unknown): void => {
    Object.defineProperty(target, "URLPattern", { value, writable: true, enumerable: false, configurable: true });
  };
  Object.defineProperty(target, "URLPattern", {
    get() {
      const value = loadLazyModule<{ URLPattern: unknown }>("urlpattern").URLPattern;
      settle(value);
      return value;
    },
    set: settle,
    enumerable: false,
    configurable: true,
  });
}
