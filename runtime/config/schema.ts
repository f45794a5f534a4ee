/**
 * The one schema of `edgehost.json`. Every section but `apps` is optional;
 * every object refuses unknown keys. The types of the file's parsed form are
 * derived from it here; the resolved ServeConfig (absolute paths, secrets,
 * effective limits, parsed routes) is in types.ts.
 *
 * Route and host-pattern syntax is the one rule not checked here: it is
 * checked by `parseRoute`/`parseHostPattern` in the pass that also finds
 * duplicate routes (route-checks.ts), so each route is parsed once, not once
 * in a zod transform (slow in zod v3, see schema-helpers.ts) and again there.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { array, boolean, integer, matching, NO_VALUE, path, positiveNumber, strictObject } from "./schema-helpers.js";

const MiB = 1024 * 1024;

/** App names: DNS-label-like, so they are safe in paths, URLs, metric labels and log fields. */
export const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;
/** A var or secret name: any 1 to 256 characters the app can read as `env[name]` (what `run --var` accepts), but not `__proto__`. */
const BINDING_NAME = /^(?!__proto__$)[\s\S]{1,256}$/;
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Per-app limits. Each is optional here: `defaults.limits` overrides the
 * built-in defaults and an app's `limits` overrides `defaults.limits`, key by
 * key. Ranges: the same as `edgehost run`'s flags where run has them.
 */
const limitFields = {
  /** CPU time per request, ms (fractions allowed). */
  cpuMs: positiveNumber(60_000),
  /** Isolate heap limit, MB. */
  memoryMb: integer(8, 16_384),
  /** Time from request to response, ms (504 past it). */
  wallMs: integer(1, 3_600_000),
  /** Top-level evaluation of the app's bundle, ms. */
  startupMs: integer(1, 60_000),
  /** Request body, bytes (413 past it); 0 = no body. At most 1 TiB. */
  bodyBytes: integer(0, 2 ** 40),
  /** Outbound fetches per request; 0 = none. */
  subrequests: integer(0, 1_000_000),
  /** Requests of this app in its isolates at once. */
  concurrency: integer(1, 100_000),
  /** Requests waiting for a concurrency slot; past it, 503 with Retry-After. 0 = no queue. */
  queue: integer(0, 1_000_000),
};

export const limitsSchema = strictObject(z.object(limitFields).partial().shape);

/** One set of limits, every key present. */
export type AppLimits = { readonly [K in keyof typeof limitFields]: z.output<(typeof limitFields)[K]> };

/**
 * Built-in defaults (the issue's, and the sandbox's DEFAULT_SANDBOX_LIMITS
 * for those it has: a test keeps them equal without this module loading the
 * sandbox, which would load isolated-vm into the supervisor).
 */
export const DEFAULT_APP_LIMITS: AppLimits = Object.freeze({
  cpuMs: 50,
  memoryMb: 128,
  wallMs: 30_000,
  startupMs: 1000,
  bodyBytes: 100 * MiB,
  subrequests: 50,
  concurrency: 64,
  queue: 256,
});

const listenHost = z
  .string({ invalid_type_error: "expected an IP address or a host name", required_error: "required" })
  .refine((value) => isIP(value) !== 0 || (value.length <= 253 && HOST_NAME.test(value)), "expected an IP address or a host name");

const envName = matching(ENV_NAME, "an environment variable name (letters, digits, '_', not starting with a digit)");

export function isBindingName(value: string): boolean {
  return BINDING_NAME.test(value);
}

const bindingName = z.string().regex(BINDING_NAME, "a binding name must be 1 to 256 characters and not __proto__");

const SECRET_REF = 'expected {"env": "NAME"} or {"file": "PATH"} (secret values do not go in the config file)';

export const secretRefSchema = strictObject({ env: envName.optional(), file: path().optional() }, SECRET_REF).superRefine((ref, ctx) => {
  if (ref.env !== undefined && ref.file !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "give env or file, not both", params: NO_VALUE });
  else if (ref.env === undefined && ref.file === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: SECRET_REF, params: NO_VALUE });
});

export const appSchema = strictObject({
  name: matching(APP_NAME, "a name of 1 to 63 lower-case letters, digits and hyphens, starting with a letter or digit"),
  /** The app's entry module (.ts, .js, .mjs), relative to the config file. */
  entry: path(),
  /** `host`, `host/path-prefix`, `*.host[/path]` or `*` (any host); syntax: parseRoute. */
  routes: array(z.string({ invalid_type_error: "expected a route (a string)" }), 1, 1000, "routes"),
  vars: z.record(bindingName, z.string({ invalid_type_error: "expected a string" }), { invalid_type_error: "expected an object of strings" }).default({}),
  secrets: z.record(bindingName, secretRefSchema, { invalid_type_error: "expected an object of secret references" }).default({}),
  limits: limitsSchema.default({}),
  /** Directory of static files served by the front end, relative to the config file. */
  assets: path().optional(),
  outbound: strictObject({
    /** Hosts the app may fetch (`api.stripe.com`, `*.example.net`); absent = any public host, [] = none. */
    allow: array(z.string({ invalid_type_error: "expected a host pattern (a string)" }), 0, 1000, "host patterns").optional(),
    /** Let the app fetch loopback and private addresses (`edgehost run --allow-private-fetch`). */
    allowPrivate: boolean().default(false),
  }).default({}),
  /** Rebuild and swap the isolate when a source file changes (development; `run --watch`). */
  watch: boolean().default(false),
});

export const serveConfigSchema = strictObject({
  /** Editors' JSON schema reference; ignored. */
  $schema: z.string().optional(),
  listen: strictObject({
    host: listenHost.default("127.0.0.1"),
    port: integer(0, 65535).default(8787),
  }).default({}),
  /** The admin listener; absent = none. */
  admin: strictObject({
    host: listenHost.default("127.0.0.1"),
    port: integer(0, 65535).default(8788),
    /** The environment variable holding the bearer token. */
    tokenEnv: envName.default("EDGEHOST_ADMIN_TOKEN"),
  }).optional(),
  /** Deployed versions and bundles, relative to the config file. */
  dataDir: path().default(".edgehost"),
  defaults: strictObject({ limits: limitsSchema.default({}) }).default({}),
  /** The warm-isolate cache (an LRU over all apps). */
  cache: strictObject({
    maxIsolates: integer(1, 1_000_000).default(1000),
    /** Total heap of warm isolates, MB. */
    maxMemoryMb: integer(8, 1_048_576).default(4096),
    /** Idle isolates are disposed after this long; 0 = never. */
    idleTtlSeconds: integer(0, 604_800).default(600),
    /** Isolates one hot app may have at once (to use more than one core). */
    replicas: integer(1, 256).default(2),
  }).default({}),
  /** Knobs of the front-end process (the same as `edgehost run`'s). */
  frontEnd: strictObject({
    /** Isolate entries executing at once; 0 = the core count. */
    maxExecuting: integer(0, 1024).default(0),
    /** Entries of isolates averaging under this many ms run inline on the front end's thread; 0 = never. */
    inlineThresholdMs: z
      .number({ invalid_type_error: "expected a number from 0 to 50" })
      .min(0, "expected a number from 0 to 50")
      .max(50, "expected a number from 0 to 50")
      .default(1),
    /** An inline entry this far past its deadline reports the front end stalled. */
    hangStallMs: integer(1, 60_000).default(500),
    /** An inline entry this far past its deadline gets the front end killed. */
    hangKillMs: integer(1, 600_000).default(10_000),
    /** Front-end RSS past which the largest isolate is recycled, MB; 0 = derived from the limits. */
    rssLimitMb: integer(0, 1_048_576).default(0),
    /** Drain time on SIGINT/SIGTERM before in-flight requests are cut, ms. */
    shutdownTimeoutMs: integer(1, 3_600_000).default(10_000),
    /** OS priority (nice) of the threads that run tenant work, below the event loop's; 0 (default) = the same (sandbox/tenant-thread-priority.ts). */
    tenantThreadNice: integer(0, 19).default(0),
  }).default({}),
  apps: array(appSchema, 0, 100_000, "apps"),
});

/** `edgehost.json` as parsed by the schema (defaults applied; routes still strings, paths still relative). */
export type ServeConfigFile = z.output<typeof serveConfigSchema>;
export type AppFile = z.output<typeof appSchema>;
export type LimitsOverride = z.output<typeof limitsSchema>;
export type SecretRef = z.output<typeof secretRefSchema>;
