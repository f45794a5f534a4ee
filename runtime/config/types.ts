/**
 * The resolved config that `loadServeConfig` and `singleAppServeConfig`
 * return: the schema's output (schema.ts) with paths made absolute, secrets
 * read, and each app's effective limits merged. Deeply frozen.
 */
import type { HostPattern, Route } from "./host-pattern.js";
import type { AppLimits, ServeConfigFile } from "./schema.js";
import type { Secret } from "./secret.js";

export type { AppLimits } from "./schema.js";
export type { HostMatch, HostPattern, Route } from "./host-pattern.js";

export type ListenConfig = Readonly<ServeConfigFile["listen"]>;
export type CacheConfig = Readonly<ServeConfigFile["cache"]>;
export type FrontEndConfig = Readonly<ServeConfigFile["frontEnd"]>;

export interface AdminConfig extends Readonly<NonNullable<ServeConfigFile["admin"]>> {
  /**
   * The bearer token from `tokenEnv`. Absent only when that variable is unset
   * and `host` is loopback (a non-loopback admin listener without a token is
   * a config error); what the admin listener then does is its own policy.
   */
  readonly token?: Secret;
}

export interface OutboundConfig {
  /** Hosts the app may fetch; absent = any public host, empty = none. */
  readonly allow?: readonly HostPattern[];
  /** Loopback and private addresses allowed too. */
  readonly allowPrivate: boolean;
}

export interface ServeApp {
  readonly name: string;
  /** Absolute path of the entry module. */
  readonly entry: string;
  readonly routes: readonly Route[];
  readonly vars: Readonly<Record<string, string>>;
  /** Read at load; values only through `Secret.reveal()`. */
  readonly secrets: Readonly<Record<string, Secret>>;
  /** Effective: built-in defaults, then `defaults.limits`, then the app's own. */
  readonly limits: AppLimits;
  /** Absolute path of the static-files directory. */
  readonly assets?: string;
  readonly outbound: OutboundConfig;
  readonly watch: boolean;
}

export interface ServeConfig {
  /** Absolute path of the config file; absent for a config made from `edgehost run`'s flags. */
  readonly file?: string;
  readonly listen: ListenConfig;
  readonly admin?: AdminConfig;
  /** Absolute. */
  readonly dataDir: string;
  /** Effective defaults (built-in defaults overridden by `defaults.limits`). */
  readonly defaults: { readonly limits: AppLimits };
  readonly cache: CacheConfig;
  readonly frontEnd: FrontEndConfig;
  readonly apps: readonly ServeApp[];
}
