/**
 * `process`, the part of workerd's (nodejs_compat) that Workers code and
 * the npm packages it bundles use without Node itself: `process.env`,
 * filled with the app's vars and secrets before its code runs (workerd
 * populates it the same way, so `process.env.API_URL` and
 * `process.env.NODE_ENV` checks at module load see what they see there),
 * and `process.nextTick`, a microtask as in workerd. Nothing else of Node's
 * process: no `versions.node`, so packages that sniff for Node take their
 * Web paths instead of reaching for Node modules the isolate does not have.
 */
import { appEnvAtBoot } from "./host.js";
import { queueMicrotask } from "./timers.js";

const { apply } = Reflect;

/** The isolate's `process` object; env is its own copy, which tenant code may change. */
export function createProcess(): object {
  const env: Record<string, string> = { ...appEnvAtBoot };
  const process = {
    env,
    // workerd takes any callback here and fails when the microtask runs (then reported as an uncaught exception), not at the call.
    nextTick(callback: unknown, ...args: unknown[]): void {
      queueMicrotask(() => apply(callback as (...values: unknown[]) => unknown, undefined, args));
    },
  };
  Object.defineProperty(process, Symbol.toStringTag, { value: "process", configurable: true });
  return process;
}
