/**
 * Validation of a parsed `edgehost.json` value into a ServeConfig: the
 * schema, the checks it cannot express, secrets, absolute paths, effective
 * limits; every problem collected and thrown as one ConfigError.
 */
import { resolve } from "node:path";
import { bindingClashIssues, duplicateNameIssues, fileIssues } from "./app-checks.js";
import { deepFreeze } from "./deep-freeze.js";
import { ConfigError } from "./errors.js";
import { configErrorMap, toConfigIssues, zodPathIssues, type PathIssue } from "./issues.js";
import { mergeLimits } from "./limits.js";
import type { HostPattern, Route } from "./host-pattern.js";
import { rawApps } from "./raw-input.js";
import { parsePatterns, type ParsedPatterns } from "./route-checks.js";
import { serveConfigSchema, type AppFile, type AppLimits, type ServeConfigFile } from "./schema.js";
import type { Secret } from "./secret.js";
import { resolveAppSecrets, type Environment } from "./secrets.js";
import { adminIssues, cacheIssues } from "./section-checks.js";
import type { AdminConfig, ServeApp, ServeConfig } from "./types.js";

export interface ValidateOptions {
  /** Named in every message: the config file as the user gave it, or "edgehost run". */
  readonly source: string;
  /** Relative paths (entry, assets, dataDir, secret files) are resolved against it. */
  readonly baseDir: string;
  /** Where `{ "env": NAME }` secrets and the admin token are read. */
  readonly env: Environment;
  /** Check that entries are files and asset dirs are directories (one stat each). Default true. */
  readonly checkFiles?: boolean;
  /** The config file's absolute path, kept in the result. */
  readonly file?: string;
}

const NO_SECRETS: Readonly<Record<string, Secret>> = Object.freeze({});

/** What was read or parsed for one app outside the schema. */
interface AppExtras {
  readonly routes: readonly Route[];
  readonly allow: readonly HostPattern[] | undefined;
  readonly secrets: Readonly<Record<string, Secret>>;
}

/**
 * One app, frozen as it is built (its parts arrive frozen): with 10,000 apps
 * a deep-freeze walk afterwards costs more than the building.
 */
function resolveApp(app: AppFile, defaults: AppLimits, extras: AppExtras, baseDir: string): ServeApp {
  const outbound = { ...(extras.allow === undefined ? {} : { allow: Object.freeze(extras.allow) }), allowPrivate: app.outbound.allowPrivate };
  return Object.freeze({
    name: app.name,
    entry: resolve(baseDir, app.entry),
    routes: Object.freeze(extras.routes),
    vars: Object.freeze(app.vars),
    secrets: extras.secrets,
    limits: mergeLimits(defaults, app.limits),
    ...(app.assets === undefined ? {} : { assets: resolve(baseDir, app.assets) }),
    outbound: Object.freeze(outbound),
    watch: app.watch,
  });
}

function build(
  file: ServeConfigFile,
  options: ValidateOptions,
  patterns: ParsedPatterns,
  secrets: ReadonlyMap<number, Record<string, Secret>>,
  token: Secret | undefined,
): ServeConfig {
  const defaults = mergeLimits(undefined, file.defaults.limits);
  const admin: AdminConfig | undefined = file.admin === undefined ? undefined : { ...file.admin, ...(token === undefined ? {} : { token }) };
  // deepFreeze skips what is frozen already: it walks the small sections, not the apps.
  return deepFreeze({
    ...(options.file === undefined ? {} : { file: options.file }),
    listen: file.listen,
    ...(admin === undefined ? {} : { admin }),
    dataDir: resolve(options.baseDir, file.dataDir),
    defaults: { limits: defaults },
    cache: file.cache,
    frontEnd: file.frontEnd,
    apps: Object.freeze(file.apps.map((app, index) => {
      const routes = patterns.routes.get(index);
      // The schema and parsePatterns read the same input: a valid config has both.
      if (routes === undefined) throw new Error(`internal: apps[${index}] passed the schema without parsed routes`);
      const extras = { routes, allow: patterns.allow.get(index), secrets: secrets.get(index) ?? NO_SECRETS };
      return resolveApp(app, defaults, extras, options.baseDir);
    })),
  });
}

/**
 * Validate `input` (a parsed JSON value) as `edgehost.json`. Throws one
 * ConfigError(EDGE_CONFIG_INVALID) listing every problem with its JSON path;
 * otherwise returns the resolved, deeply frozen config.
 *
 * Everything but the cross-section checks (admin address and token, cache
 * bounds against limits) runs whether or not the rest of the document is
 * valid; those need the defaults and run once the schema has passed.
 */
export function validateServeConfig(input: unknown, options: ValidateOptions): ServeConfig {
  const parsed = serveConfigSchema.safeParse(input, { errorMap: configErrorMap });
  const apps = rawApps(input);
  const patterns = parsePatterns(apps);
  const secrets = resolveAppSecrets(apps, options.baseDir, options.env);
  // Lists, not push(...list): 100,000 broken apps would pass too many arguments.
  const found: PathIssue[][] = [
    parsed.success ? [] : zodPathIssues(parsed.error, input, serveConfigSchema),
    duplicateNameIssues(apps),
    patterns.issues,
    bindingClashIssues(apps),
    options.checkFiles ?? true ? fileIssues(apps, options.baseDir) : [],
    secrets.issues,
  ];
  let token: Secret | undefined;
  if (parsed.success) {
    const admin = adminIssues(parsed.data, options.env);
    token = admin.token;
    found.push(admin.issues, cacheIssues(parsed.data));
  }
  const issues = found.flat();
  if (!parsed.success || issues.length > 0) throw new ConfigError("EDGE_CONFIG_INVALID", options.source, toConfigIssues(issues, input));
  return build(parsed.data, options, patterns, secrets.secrets, token);
}
