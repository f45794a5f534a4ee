/**
 * Validation of a parsed `edgehost.json` value into a ServeConfig: the
 * schema, the checks it cannot express, secrets, absolute paths, effective
 * limits; every problem collected and thrown as one ConfigError.
 */
import { resolve } from "node:path";
import { bindingClashIssues, duplicateNameIssues, duplicateRouteIssues, fileIssues } from "./app-checks.js";
import { deepFreeze } from "./deep-freeze.js";
import { ConfigError } from "./errors.js";
import { configErrorMap, toConfigIssues, zodPathIssues, type PathIssue } from "./issues.js";
import { mergeLimits } from "./limits.js";
import { rawApps } from "./raw-input.js";
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

function resolveApp(app: AppFile, defaults: AppLimits, secrets: Readonly<Record<string, Secret>>, baseDir: string): ServeApp {
  return {
    name: app.name,
    entry: resolve(baseDir, app.entry),
    routes: app.routes,
    vars: app.vars,
    secrets,
    limits: mergeLimits(defaults, app.limits),
    ...(app.assets === undefined ? {} : { assets: resolve(baseDir, app.assets) }),
    outbound: { ...(app.outbound.allow === undefined ? {} : { allow: app.outbound.allow }), allowPrivate: app.outbound.allowPrivate },
    watch: app.watch,
  };
}

function build(file: ServeConfigFile, options: ValidateOptions, secrets: ReadonlyMap<number, Record<string, Secret>>, token: Secret | undefined): ServeConfig {
  const defaults = mergeLimits(undefined, file.defaults.limits);
  const admin: AdminConfig | undefined = file.admin === undefined ? undefined : { ...file.admin, ...(token === undefined ? {} : { token }) };
  return deepFreeze({
    ...(options.file === undefined ? {} : { file: options.file }),
    listen: file.listen,
    ...(admin === undefined ? {} : { admin }),
    dataDir: resolve(options.baseDir, file.dataDir),
    defaults: { limits: defaults },
    cache: file.cache,
    frontEnd: file.frontEnd,
    apps: file.apps.map((app, index) => resolveApp(app, defaults, secrets.get(index) ?? {}, options.baseDir)),
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
  const issues: PathIssue[] = parsed.success ? [] : zodPathIssues(parsed.error, input);
  const apps = rawApps(input);
  issues.push(...duplicateNameIssues(apps), ...duplicateRouteIssues(apps), ...bindingClashIssues(apps));
  if (options.checkFiles ?? true) issues.push(...fileIssues(apps, options.baseDir));
  const secrets = resolveAppSecrets(apps, options.baseDir, options.env);
  issues.push(...secrets.issues);
  let token: Secret | undefined;
  if (parsed.success) {
    const admin = adminIssues(parsed.data, options.env);
    token = admin.token;
    issues.push(...admin.issues, ...cacheIssues(parsed.data));
  }
  if (!parsed.success || issues.length > 0) throw new ConfigError("EDGE_CONFIG_INVALID", options.source, toConfigIssues(issues));
  return build(parsed.data, options, secrets.secrets, token);
}
