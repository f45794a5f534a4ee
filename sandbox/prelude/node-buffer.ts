/**
 * The `Buffer` global, as workerd has it: Node's Buffer API from the
 * `buffer` package (feross/buffer), loaded from the host the first time the
 * global is read (a lazy module, see streams-lazy-module.ts), so an idle
 * isolate holds none of its 60 KB. `import { Buffer } from "node:buffer"`
 * in an app is bundled as this same global (loader/runtime-modules.ts).
 */
import { lazyGlobalDescriptor } from "./lazy-global.js";
import { loadLazyModule } from "./streams-lazy-module.js";

/** Defines `Buffer` on `target` as a global that loads the package when first read (lazy-global.ts). */
export function installLazyBuffer(target: object): void {
  Object.defineProperty(target, "Buffer", lazyGlobalDescriptor(target, "Buffer", () => loadLazyModule<{ Buffer: unknown }>("buffer").Buffer));
}
