/**
 * Live deploys of `edgehost serve`: what the admin API's deploy, rollback,
 * activate, split and remove endpoints do to a running front end. Each
 * change is made in the version store (runtime/versions/) and in the
 * tenants, in this order: the new version is built and booted while the old
 * one keeps serving; only then is it recorded as active and swapped in, so
 * a failing build or top-level error leaves everything as it was, and
 * requests already inside the old version finish there (Tenant.promote).
 */
import path from "node:path";
import { appBundleFromCode, isLoaderError, type AppBundle } from "../../loader/index.js";
import { isSandboxError } from "../../sandbox/index.js";
import type { AppHost } from "../app-host.js";
import { mergeApiAppSettings, resolveApiAppSettings, type ApiAppSettings } from "../config/api-app-settings.js";
import { parseRoute, type AppLimits, type Route, type ServeApp } from "../config/index.js";
import { ADMIN_BAD_REQUEST, ADMIN_BODY_TOO_LARGE, ADMIN_BOOT_FAILED, ADMIN_BUILD_FAILED, ADMIN_BUSY, ADMIN_CONFLICT, ADMIN_NO_SUCH_APP, ADMIN_NO_SUCH_VERSION, withMessage, type ErrorReply } from "../error-response.js";
import { isRuntimeError } from "../errors.js";
import type { LogSink } from "../logger.js";
import { startupFailureLine } from "../startup-failure.js";
import { isVersionsError, type AppVersions, type Version, type VersionInput, type VersionStore } from "../versions/index.js";
import { AsyncMutex } from "../versions/async-mutex.js";
import type { DeployedVersion, Tenant } from "./tenant.js";
import type { BundleSource, VersionRunner } from "./version-runner.js";

/** What Deployments needs of the front end it changes. */
export interface DeploymentsHost {
  /** The tenant serving `name` now. */
  tenant(name: string): Tenant | undefined;
  /** True if the config file defines `name` (its routes and settings are the file's). */
  isConfigApp(name: string): boolean;
  /** The app created through the API under `name`, if any. */
  apiApp(name: string): ServeApp | undefined;
  /** Names of the apps created through the API. */
  apiAppNames(): string[];
  /** A tenant for an API app, serving `deployed`; not routed until {@link DeploymentsHost.putApiApp}. */
  createTenant(app: ServeApp, deployed: DeployedVersion): Tenant;
  /** Throws RuntimeError (`EDGE_RUNTIME_BAD_ROUTE`, `EDGE_RUNTIME_ROUTE_CONFLICT`) if `app` could not be routed beside the others; changes nothing. */
  checkApiApp(app: ServeApp): void;
  /**
   * Route `app` to `tenant` (new app, new routes, or a new tenant for new
   * settings: the one it replaces is retired); throws like checkApiApp with
   * nothing changed.
   */
  putApiApp(app: ServeApp, tenant: Tenant): void;
  /** Stop routing the API app; its requests in flight finish, then its isolates go. */
  removeApiApp(name: string): void;
  /** Effective default limits (of the config in force), which API apps run with. */
  defaults(): AppLimits;
  /** cache.maxMemoryMb of the config in force: an app whose heap limit is larger could never stay warm. */
  maxIsolateMemoryMb(): number;
  readonly log: LogSink;
  /** Told after every change, so that the other front ends read the store again. */
  onChanged(): void;
}

/** A deploy request as the admin API parsed it. */
export interface DeployRequest {
  readonly input: VersionInput;
  /** Routes of an app created through the API (required for a new one, refused for a config app). */
  readonly routes?: readonly string[];
  /** vars, limits, outbound allow list of an API app (checked; refused for a config app); each field given replaces the stored one. */
  readonly settings?: ApiAppSettings;
  /** Make it active at once (default), or only store it (for a later split or activate). */
  readonly activate: boolean;
}

/** A result, or the admin reply that refuses it. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reply: ErrorReply };

/** An app's versions as the admin API shows them. */
export interface VersionsView {
  readonly active: string | null;
  readonly previous: string | null;
  readonly split: { readonly versionId: string; readonly percent: number } | null;
  readonly versions: readonly Version[];
  /** Routes, for an app created through the API. */
  readonly routes?: readonly string[];
  /** Settings, for an app created through the API deployed with some. */
  readonly settings?: ApiAppSettings;
}

function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

function refuse(reply: ErrorReply): Outcome<never> {
  return { ok: false, reply };
}

/**
 * The ServeApp of an app created through the API: its stored vars, limits
 * (over the config's defaults) and outbound allow list; no secrets or
 * assets (config-file only). A string says which stored setting no longer
 * passes.
 */
export function apiServeApp(name: string, routes: readonly Route[], defaults: AppLimits, settings?: ApiAppSettings): ServeApp | string {
  const resolved = resolveApiAppSettings(settings, defaults);
  if (typeof resolved === "string") return resolved;
  return { name, entry: "", routes, vars: resolved.vars, secrets: {}, limits: resolved.limits, outbound: resolved.outbound, watch: false };
}

/** True if a tenant built for `before` cannot serve `after` (its env, limits or outbound rules differ). */
function settingsChanged(before: ServeApp, after: ServeApp): boolean {
  const of = (app: ServeApp): string => JSON.stringify({ vars: app.vars, limits: app.limits, outbound: app.outbound });
  return of(before) !== of(after);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Deployments {
  readonly #store: VersionStore;
  readonly #host: DeploymentsHost;
  /** One change per app at a time: two deploys of one app must not swap runners out of order. */
  readonly #locks = new Map<string, AsyncMutex>();

  constructor(store: VersionStore, host: DeploymentsHost) {
    this.#store = store;
    this.#host = host;
  }

  /** The version `name` should serve, per the store (start-up, a reload's new tenant). */
  deployedVersion(name: string): DeployedVersion | undefined {
    const state = this.#store.appState(name);
    const version = state.versions.find((candidate) => candidate.id === state.active);
    return version === undefined ? undefined : this.#deployed(name, version);
  }

  /** Apps created through the API, with routes and an active version, that the config file does not define. */
  apiApps(): ServeApp[] {
    const apps: ServeApp[] = [];
    for (const name of this.#store.apps()) {
      const state = this.#store.appState(name);
      if (state.routes === undefined || state.active === null || this.#host.isConfigApp(name)) continue;
      const routes = parseRoutes(state.routes);
      if (typeof routes === "string") {
        this.#host.log({ level: "error", app: name, message: `stored routes are invalid, app not served: ${routes}` });
        continue;
      }
      const app = apiServeApp(name, routes, this.#host.defaults(), state.settings);
      if (typeof app === "string") {
        this.#host.log({ level: "error", app: name, message: `stored settings are invalid, app not served: ${app}` });
        continue;
      }
      apps.push(app);
    }
    return apps;
  }

  /** The app's versions, or undefined when it has none. */
  view(name: string): VersionsView | undefined {
    const state = this.#store.appState(name);
    if (state.versions.length === 0) return undefined;
    return viewOf(state);
  }

  /**
   * Build, boot and (unless `activate` is false) switch to a new version.
   * A new app (not in the config, not deployed before) needs `routes`.
   */
  deploy(name: string, request: DeployRequest): Promise<Outcome<{ version: Version; active: boolean }>> {
    return this.#locked(name, async () => {
      const isConfigApp = this.#host.isConfigApp(name);
      const existing = this.#host.apiApp(name);
      if (isConfigApp && request.routes !== undefined) {
        return refuse(withMessage(ADMIN_BAD_REQUEST, `app ${name} is defined in the config file; its routes come from there`));
      }
      if (isConfigApp && request.settings !== undefined) {
        return refuse(withMessage(ADMIN_BAD_REQUEST, `app ${name} is defined in the config file; its settings come from there`));
      }
      // As stored before this deploy: what settings merge into, and what a failed boot puts back (addVersion replaces the routes and settings sent with it).
      const before = this.#store.appState(name);
      let app: ServeApp | undefined;
      let settings: ApiAppSettings | undefined;
      if (!isConfigApp) {
        const routes = request.routes === undefined ? existing?.routes : parseRoutes(request.routes);
        if (routes === undefined) return refuse(withMessage(ADMIN_BAD_REQUEST, `app ${name} is new: give its routes ("routes": ["host/path", ...])`));
        if (typeof routes === "string") return refuse(withMessage(ADMIN_BAD_REQUEST, routes));
        if (!request.activate && existing === undefined) return refuse(withMessage(ADMIN_BAD_REQUEST, `app ${name} is new: its first version must be activated`));
        if (!request.activate && request.settings !== undefined) {
          return refuse(withMessage(ADMIN_BAD_REQUEST, `settings belong to the app and take effect with an activated deploy; leave out "activate": false or the settings`));
        }
        if (request.settings !== undefined) settings = mergeApiAppSettings(before.settings, request.settings);
        const made = apiServeApp(name, routes, this.#host.defaults(), settings ?? before.settings);
        if (typeof made === "string") return refuse(withMessage(ADMIN_BAD_REQUEST, made));
        // The config file's rule for its own apps (cacheIssues), for the API's.
        if (request.settings?.limits?.memoryMb !== undefined && made.limits.memoryMb > this.#host.maxIsolateMemoryMb()) {
          return refuse(withMessage(ADMIN_BAD_REQUEST, `settings.limits.memoryMb: ${made.limits.memoryMb} MB exceeds cache.maxMemoryMb (${this.#host.maxIsolateMemoryMb()}): the isolate could never stay warm`));
        }
        app = made;
        try {
          this.#host.checkApiApp(app);
        } catch (error) {
          if (isRuntimeError(error)) return refuse(withMessage(ADMIN_CONFLICT, error.message));
          throw error;
        }
      }
      let version: Version;
      try {
        version = await this.#store.addVersion(name, request.input, {
          ...(request.routes === undefined ? {} : { routes: request.routes }),
          ...(settings === undefined ? {} : { settings }),
        });
      } catch (error) {
        return refuse(storeErrorReply(error));
      }
      const deployed = this.#deployed(name, version);
      const serving = this.#host.tenant(name);
      // New settings need a tenant of their own (env and limits are fixed per tenant); it replaces the one serving.
      const replacesTenant = request.activate && serving !== undefined && app !== undefined && existing !== undefined && settingsChanged(existing, app);
      const current = replacesTenant ? undefined : serving;
      const tenant = current ?? this.#host.createTenant(app as ServeApp, deployed);
      const runner = current === undefined ? undefined : current.runnerFor(deployed);
      const booted = await bootOutcome(name, runner ?? tenant);
      if (!booted.ok) {
        runner?.dispose();
        if (current === undefined) tenant.dispose();
        await this.#store.discardVersion(name, version.id, { routes: before.routes, settings: before.settings });
        return booted;
      }
      if (!request.activate) {
        // Booted only to check it; a split or activate boots it again when it serves.
        runner?.dispose();
        this.#host.log({ level: "info", app: name, message: `version ${version.id} stored (not active)` });
        this.#host.onChanged();
        return ok({ version, active: false });
      }
      await this.#store.activate(name, version.id);
      if (app !== undefined && (current === undefined || request.routes !== undefined)) {
        try {
          this.#host.putApiApp(app, tenant);
        } catch (error) {
          // checkApiApp passed a moment ago; only a config reload in between gets here.
          if (isRuntimeError(error)) return refuse(withMessage(ADMIN_CONFLICT, error.message));
          throw error;
        }
      }
      if (runner !== undefined) tenant.promote(runner);
      this.#host.log({ level: "info", app: name, message: `deployed version ${version.id}` });
      this.#host.onChanged();
      return ok({ version, active: true });
    });
  }

  /** Switch back to the previous active version (booted first); ends any split. */
  rollback(name: string): Promise<Outcome<Version>> {
    return this.#locked(name, async () => {
      const state = this.#store.appState(name);
      const tenant = this.#host.tenant(name);
      if (tenant === undefined || state.versions.length === 0) return refuse(withMessage(ADMIN_NO_SUCH_APP, `app ${name} has no deployed versions`));
      const previous = state.versions.find((version) => version.id === state.previous);
      if (previous === undefined) return refuse(withMessage(ADMIN_CONFLICT, `app ${name} has no previous version to roll back to`));
      // Never the canary's runner: clearCanary below retires it.
      const booted = await this.#bootedRunner(tenant, name, previous, false);
      if (!booted.ok) return booted;
      const runner = booted.value;
      await this.#store.rollback(name);
      tenant.clearCanary();
      tenant.promote(runner);
      this.#host.log({ level: "info", app: name, message: `rolled back to version ${previous.id}` });
      this.#host.onChanged();
      return ok(previous);
    });
  }

  /** Make a stored version active (booted first). */
  activate(name: string, versionId: string): Promise<Outcome<Version>> {
    return this.#locked(name, async () => {
      const found = this.#find(name, versionId);
      if (!found.ok) return found;
      const { tenant, version } = found.value;
      if (tenant.activeVersionId === versionId) return ok(version);
      const booted = await this.#bootedRunner(tenant, name, version, true);
      if (!booted.ok) return booted;
      await this.#store.activate(name, versionId);
      tenant.promote(booted.value);
      this.#host.log({ level: "info", app: name, message: `activated version ${versionId}` });
      this.#host.onChanged();
      return ok(version);
    });
  }

  /** Send `percent` of the app's requests to `versionId` (booted first), the rest to the active version. */
  split(name: string, versionId: string, percent: number): Promise<Outcome<{ versionId: string; percent: number }>> {
    return this.#locked(name, async () => {
      const found = this.#find(name, versionId);
      if (!found.ok) return found;
      const { tenant, version } = found.value;
      const state = this.#store.appState(name);
      if (state.active === null) return refuse(withMessage(ADMIN_CONFLICT, `app ${name} has no active version to split traffic with`));
      if (state.active === versionId) return refuse(withMessage(ADMIN_CONFLICT, `version ${versionId} is the active version`));
      if (!Number.isInteger(percent) || percent < 0 || percent > 100) return refuse(withMessage(ADMIN_BAD_REQUEST, `"percent" must be an integer from 0 to 100`));
      const booted = await this.#bootedRunner(tenant, name, version, true);
      if (!booted.ok) return booted;
      await this.#store.setSplit(name, versionId, percent);
      tenant.setCanary(booted.value, percent);
      this.#host.log({ level: "info", app: name, message: `split: ${percent}% of requests to version ${versionId}` });
      this.#host.onChanged();
      return ok({ versionId, percent });
    });
  }

  /** End the app's traffic split. */
  clearSplit(name: string): Promise<Outcome<null>> {
    return this.#locked(name, async () => {
      const tenant = this.#host.tenant(name);
      if (tenant === undefined || this.#store.appState(name).versions.length === 0) return refuse(withMessage(ADMIN_NO_SUCH_APP, `app ${name} has no deployed versions`));
      await this.#store.clearSplit(name);
      tenant.clearCanary();
      this.#host.onChanged();
      return ok(null);
    });
  }

  /** Remove an app created through the API: it stops taking requests, its versions go. */
  remove(name: string): Promise<Outcome<null>> {
    return this.#locked(name, async () => {
      if (this.#host.isConfigApp(name)) {
        return refuse(withMessage(ADMIN_CONFLICT, `app ${name} is defined in the config file: remove it there and reload`));
      }
      if (this.#host.apiApp(name) === undefined) return refuse(withMessage(ADMIN_NO_SUCH_APP, `no app named ${name}`));
      this.#host.removeApiApp(name);
      await this.#store.removeApp(name);
      this.#host.log({ level: "info", app: name, message: "removed" });
      this.#host.onChanged();
      return ok(null);
    });
  }

  /**
   * Read the store again and serve what it says (another front end changed
   * it): versions are swapped in without a boot here, as the front end that
   * deployed them booted them already.
   */
  async sync(): Promise<void> {
    await this.#store.refresh();
    const desired = new Map(this.apiApps().map((app) => [app.name, app]));
    for (const name of this.#host.apiAppNames()) if (!desired.has(name)) this.#host.removeApiApp(name);
    for (const app of desired.values()) {
      const known = this.#host.apiApp(app.name);
      try {
        if (known === undefined || settingsChanged(known, app)) this.#host.putApiApp(app, this.#host.createTenant(app, this.deployedVersion(app.name) as DeployedVersion));
        else if (JSON.stringify(known.routes) !== JSON.stringify(app.routes)) this.#host.putApiApp(app, this.#host.tenant(app.name) as Tenant);
      } catch (error) {
        this.#host.log({ level: "error", app: app.name, message: `not served: ${errorMessage(error)}` });
      }
    }
    for (const name of this.#store.apps()) this.#syncTenant(name);
  }

  #syncTenant(name: string): void {
    const tenant = this.#host.tenant(name);
    if (tenant === undefined) return;
    const state = this.#store.appState(name);
    if (tenant.activeVersionId !== state.active) {
      const deployed = this.deployedVersion(name);
      if (deployed === undefined) tenant.serveEntry();
      else tenant.promote(tenant.runnerFor(deployed));
    }
    this.applyStoredSplit(tenant);
  }

  /** Give `tenant` the traffic split the store has for its app (or none). */
  applyStoredSplit(tenant: Tenant): void {
    const name = tenant.spec.name;
    const split = this.#store.appState(name).split;
    const version = split === null ? undefined : this.#store.appState(name).versions.find((candidate) => candidate.id === split.versionId);
    if (split === null || version === undefined) {
      if (tenant.split !== undefined) tenant.clearCanary();
    } else if (tenant.split?.versionId !== split.versionId || tenant.split.percent !== split.percent) {
      const canary = tenant.canaryRunner;
      tenant.setCanary(canary?.versionId === split.versionId ? canary : tenant.runnerFor(this.#deployed(name, version)), split.percent);
    }
  }

  /**
   * A booted runner of `version`: the canary's when it serves that version
   * and `reuseCanary`, else a new one, disposed again if its boot fails.
   * start() on a live runner only checks it has an isolate.
   */
  async #bootedRunner(tenant: Tenant, name: string, version: Version, reuseCanary: boolean): Promise<Outcome<VersionRunner>> {
    const canary = tenant.canaryRunner;
    const runner = reuseCanary && canary?.versionId === version.id ? canary : tenant.runnerFor(this.#deployed(name, version));
    const booted = await bootOutcome(name, runner);
    if (booted.ok) return ok(runner);
    if (runner !== canary) runner.dispose();
    return booted;
  }

  #find(name: string, versionId: string): Outcome<{ tenant: Tenant; version: Version }> {
    const tenant = this.#host.tenant(name);
    const state = this.#store.appState(name);
    if (tenant === undefined || state.versions.length === 0) return refuse(withMessage(ADMIN_NO_SUCH_APP, `app ${name} has no deployed versions`));
    const version = state.versions.find((candidate) => candidate.id === versionId);
    if (version === undefined) return refuse(withMessage(ADMIN_NO_SUCH_VERSION, `app ${name} has no version ${versionId}`));
    return ok({ tenant, version });
  }

  #deployed(name: string, version: Version): DeployedVersion {
    return { id: version.id, source: this.#bundleSource(name, version) };
  }

  /** A stored version's bundle, read from the store (and checked against its hash) when its runner first needs it. */
  #bundleSource(name: string, version: Version): BundleSource {
    // Where stack positions are shown relative to: the upload's entry, or the bundle file.
    const entryPath =
      version.source === "upload"
        ? path.join(this.#store.dataDir, "uploads", version.id, ...version.entry.split("/"))
        : path.join(this.#store.dataDir, "bundles", `${version.bundleHash}.js`);
    return {
      load: async (): Promise<AppBundle> => appBundleFromCode(entryPath, await this.#store.loadBundle(version.bundleHash)),
      onFailure: (error) => this.#host.log({ level: "error", app: name, message: `version ${version.id} could not be loaded: ${errorMessage(error)}` }),
    };
  }

  #locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    let lock = this.#locks.get(name);
    if (lock === undefined) {
      lock = new AsyncMutex();
      this.#locks.set(name, lock);
    }
    return lock.run(work);
  }
}

function viewOf(state: AppVersions): VersionsView {
  return {
    active: state.active,
    previous: state.previous,
    split: state.split,
    versions: state.versions,
    ...(state.routes === undefined ? {} : { routes: state.routes }),
    ...(state.settings === undefined ? {} : { settings: state.settings }),
  };
}

/** Parsed routes, or the problems as one message. */
function parseRoutes(patterns: readonly string[]): Route[] | string {
  if (!Array.isArray(patterns) || patterns.length === 0) return `"routes" must be a non-empty list of "host/path" patterns`;
  const routes: Route[] = [];
  const problems: string[] = [];
  for (const pattern of patterns) {
    const route = typeof pattern === "string" ? parseRoute(pattern) : "a route must be a string";
    if (typeof route === "string") problems.push(`${JSON.stringify(pattern)}: ${route}`);
    else routes.push(route);
  }
  return problems.length > 0 ? `invalid routes: ${problems.join("; ")}` : routes;
}

/** Boots a version; a failure becomes the admin reply saying why, in one line. */
async function bootOutcome(name: string, bootable: { start(): Promise<unknown>; readonly host: AppHost | undefined }): Promise<Outcome<null>> {
  try {
    await bootable.start();
    return ok(null);
  } catch (error) {
    if (isLoaderError(error) || isVersionsError(error)) return refuse(withMessage(ADMIN_BUILD_FAILED, error.message));
    if (isSandboxError(error)) {
      const bundle = bootable.host?.bundle;
      return refuse(withMessage(ADMIN_BOOT_FAILED, bundle === undefined ? `${name}: ${error.message}` : startupFailureLine(name, error, bundle)));
    }
    throw error;
  }
}

/** A store or loader refusal of a new version as an admin reply. */
function storeErrorReply(error: unknown): ErrorReply {
  if (isLoaderError(error)) return withMessage(ADMIN_BUILD_FAILED, error.message);
  if (isVersionsError(error)) {
    if (error.code === "EDGE_VERSIONS_LOCKED") return withMessage(ADMIN_BUSY, error.message);
    if (error.code === "EDGE_VERSIONS_UPLOAD_TOO_LARGE" || error.code === "EDGE_VERSIONS_UPLOAD_FILE_TOO_LARGE" || error.code === "EDGE_VERSIONS_UPLOAD_TOO_MANY_FILES") {
      return withMessage(ADMIN_BODY_TOO_LARGE, error.message);
    }
    return withMessage(ADMIN_BAD_REQUEST, error.message);
  }
  throw error;
}
