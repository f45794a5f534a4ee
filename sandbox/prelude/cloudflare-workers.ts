/**
 * What `import { ... } from "cloudflare:workers"` gives an app (the loader
 * bundles that import as a read of this bridge: loader/runtime-modules.ts):
 *
 * - `env`, the app's bindings at module level, before any request (as in
 *   workerd, an object of its own, not the one requests get);
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
import { waitUntilForCurrentRequest } from "./dispatch.js";
import { appEnvAtBoot } from "./host.js";

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

/** The global key the loader's `cloudflare:workers` module reads. */
const BRIDGE_KEY = Symbol.for("edgehost.cloudflare:workers");

/** Defines the bridge on `global`. */
export function installWorkersBridge(global: typeof globalThis): void {
  // The bundle is minified: give the classes their names back (subclasses' and errors' output shows them).
  for (const [value, name] of [[WorkerEntrypoint, "WorkerEntrypoint"], [DurableObject, "DurableObject"], [WorkflowEntrypoint, "WorkflowEntrypoint"], [RpcTarget, "RpcTarget"]] as const) {
    Object.defineProperty(value, "name", { value: name, configurable: true });
  }
  const bridge = Object.freeze({
    env: { ...appEnvAtBoot },
    WorkerEntrypoint,
    DurableObject,
    WorkflowEntrypoint,
    RpcTarget,
    waitUntil(promise: unknown): void {
      waitUntilForCurrentRequest(promise);
    },
  });
  Object.defineProperty(global, BRIDGE_KEY, { value: bridge, writable: false, enumerable: false, configurable: false });
}
