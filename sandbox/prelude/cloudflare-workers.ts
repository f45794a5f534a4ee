/**
 * What `import { ... } from "cloudflare:workers"` gives an app (the loader
 * bundles that import as a read of this bridge: loader/runtime-modules.ts):
 *
 * - `env`, the app's bindings at module level, before any request (as in
 *   workerd, an object of its own, not the one requests get; dispatch.ts
 *   fills it again at init);
 * - `WorkerEntrypoint`, the base of class-style entry points (`export
 *   default class extends WorkerEntrypoint { fetch(request) {...} }`, one
 *   instance per request with `this.env` and `this.ctx`, as workerd makes),
 *   and `DurableObject`, `WorkflowEntrypoint`, `RpcTarget`, so that modules
 *   defining such classes load (edgehost runs no Durable Objects or
 *   Workflows: nothing ever instantiates them);
 * - `waitUntil(promise)`, the current request's `ctx.waitUntil`.
 *
 * The bridge is a frozen, non-enumerable, symbol-keyed global: tenant code
 * can find it, and there is nothing in it but its own env and these classes.
 */
import { processEnvAtBoot } from "./host.js";

/** The app's env object: made from what the host gave before the app's code ran, filled again at init (dispatch.ts). */
export const appEnv: Record<string, string> = { ...processEnvAtBoot };

/** The base of workerd's entry-point classes: the context and env it was made with. */
class EntrypointBase {
  readonly ctx: unknown;
  readonly env: unknown;

  constructor(ctx: unknown, env: unknown) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkerEntrypoint extends EntrypointBase {}
export class DurableObject extends EntrypointBase {}
export class WorkflowEntrypoint extends EntrypointBase {}
export class RpcTarget {}

let waitUntilHook: (promise: unknown) => void = () => undefined;

/** dispatch.ts gives the function that finds the current request's context. */
export function setWaitUntilHook(hook: (promise: unknown) => void): void {
  waitUntilHook = hook;
}

/** The global key the loader's `cloudflare:workers` module reads. */
const BRIDGE_KEY = Symbol.for("edgehost.cloudflare:workers");

/** Defines the bridge on `global`. */
export function installWorkersBridge(global: typeof globalThis): void {
  // The bundle is minified: give the classes their names back (subclasses' and errors' output shows them).
  for (const [value, name] of [[WorkerEntrypoint, "WorkerEntrypoint"], [DurableObject, "DurableObject"], [WorkflowEntrypoint, "WorkflowEntrypoint"], [RpcTarget, "RpcTarget"]] as const) {
    Object.defineProperty(value, "name", { value: name, configurable: true });
  }
  const bridge = Object.freeze({
    env: appEnv,
    WorkerEntrypoint,
    DurableObject,
    WorkflowEntrypoint,
    RpcTarget,
    waitUntil(promise: unknown): void {
      waitUntilHook(promise);
    },
  });
  Object.defineProperty(global, BRIDGE_KEY, { value: bridge, writable: false, enumerable: false, configurable: false });
}
