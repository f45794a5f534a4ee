import type { RunConfig } from "./run-config.js";

/**
 * What a front end serves. `run` hands over its validated flags (no
 * secrets in them); `serve` names the config file, which the front end
 * loads itself, so secrets never travel over IPC (JSON would turn them
 * into "[secret]" anyway).
 */
export type FrontEndSource =
  | { readonly kind: "run"; readonly config: RunConfig }
  | { readonly kind: "serve"; readonly file: string; readonly host?: string };

/** Supervisor -> front end. */
export type SupervisorMessage =
  /**
   * Load what `source` names; listen on `port` (which overrides the
   * configured one, so a replacement binds the same port) now if `listen`,
   * else wait as a standby.
   */
  | {
      readonly type: "start";
      readonly source: FrontEndSource;
      readonly port: number;
      readonly listen: boolean;
      /** Apps that lost inline entries in earlier front ends (see InlinePolicy). */
      readonly demotedApps: readonly string[];
      /** When recent inline stalls happened (epoch ms), so that a new front end keeps the lockdown (see InlinePolicy). */
      readonly recentStallsAt: readonly number[];
    }
  /** Another front end demoted `app`: never run its entries inline here either. */
  | { readonly type: "demote-inline"; readonly app: string }
  /** Standby: start listening now (the active front end is gone). */
  | { readonly type: "listen" }
  /** Stop accepting, drain, exit 0. */
  | { readonly type: "shutdown" }
  /** Load the config file again and serve what it says (SIGHUP; serve only). */
  | { readonly type: "reload" }
  /** Another front end changed the version store: read it again. */
  | { readonly type: "sync-versions" };

/** Front end -> supervisor. */
export type FrontEndMessage =
  /** Listening on `port` (listening: true), or booted as a standby (listening: false). */
  | { readonly type: "ready"; readonly port: number; readonly listening: boolean }
  /** Could not start; `message` is the one line to print. */
  | { readonly type: "fatal"; readonly code: string; readonly message: string }
  /** An isolate failed catastrophically: start a replacement now; this process will abort once it has drained. */
  | { readonly type: "replace-me"; readonly reason: string }
  /** One of `app`'s inline entries ran `entryMs`; it runs on the thread pool from now on, everywhere. */
  | { readonly type: "inline-demoted"; readonly app: string; readonly entryMs: number }
  /** The hang watchdog knows `app` as `appId` (a stall report names the id). */
  | { readonly type: "inline-app"; readonly appId: number; readonly app: string }
  /** The admin API changed the version store: tell the other front ends. */
  | { readonly type: "versions-changed" }
  /** The admin API reloaded the config file here: the other front ends should too. */
  | { readonly type: "config-reloaded" };

export function isFrontEndMessage(value: unknown): value is FrontEndMessage {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "ready" || type === "fatal" || type === "replace-me" || type === "inline-demoted" || type === "inline-app" || type === "versions-changed" || type === "config-reloaded";
}

export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  if (typeof value !== "object" || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === "start" || type === "listen" || type === "shutdown" || type === "demote-inline" || type === "reload" || type === "sync-versions";
}
