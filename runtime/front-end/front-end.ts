/**
 * Everything one front-end process serves, built from one ServeConfig:
 * `edgehost serve edgehost.json` and `edgehost run app.ts` (a one-app
 * config, runtime/config/single-app.ts) take this same path. Building it
 * boots nothing: each app's bundle and isolate are made on its first
 * request (or at once, for `run`, which reports a broken app at start).
 */
import { DEFAULT_SANDBOX_LIMITS, EntryScheduler, WarmIsolates, type InlineEntryGuard, type InlinePolicy, type SandboxLimits } from "../../sandbox/index.js";
import { AdminServer } from "../admin/admin-server.js";
import { appStats } from "../admin/app-stats.js";
import { BearerAuth } from "../admin/bearer-auth.js";
import { adminEndpoints, type AdminSource } from "../admin/endpoints.js";
import { AdminRoutes } from "../admin/routes.js";
import type { ServeApp, ServeConfig } from "../config/index.js";
import type { ErrorReply } from "../error-response.js";
import { HttpServer, type RequestHandler } from "../http-server.js";
import type { LogSink } from "../logger.js";
import { LogTail } from "../observability/log-tail.js";
import { FrontEndMetrics } from "../observability/metrics.js";
import { observers, type RequestObserver } from "../request-observer.js";
import { RssBackstop } from "../rss-backstop.js";
import type { VersionStore } from "../versions/index.js";
import { Deployments, type DeploymentsHost } from "./deployments.js";
import { Dispatcher } from "./dispatcher.js";
import { Router } from "./router.js";
import { Tenant, type DeployedVersion, type TenantContext, type TenantSpec } from "./tenant.js";

export interface FrontEndOptions {
  readonly config: ServeConfig;
  /** The port to listen on (the supervisor's, or listen.port). */
  readonly port: number;
  readonly log: LogSink;
  readonly inlinePolicy?: InlinePolicy;
  readonly inlineEntryGuard?: InlineEntryGuard;
  readonly onCatastrophicError: (message: string) => void;
  /** When it returns a reply, new requests are refused with it. */
  readonly refuseWith?: () => ErrorReply | undefined;
  /** The name an app is logged under (run logs its entry path). Default: the app's name. */
  readonly logName?: (app: ServeApp) => string;
  /** Told of every request besides the metrics (serve's request log). */
  readonly requestObserver?: RequestObserver;
  /** Deployed versions (serve): served instead of config entries, changed through the admin API. */
  readonly versions?: VersionStore;
  /** Told after the admin API changed the version store (the supervisor tells the other front ends). */
  readonly onVersionsChanged?: () => void;
  /** The admin API's config reload (`POST /reload`): loads the file again and applies it, as SIGHUP does. */
  readonly reloadConfig?: () => ReloadOutcome | undefined;
}

/** What a config reload did, or why it did not happen. */
export type ReloadOutcome =
  | { readonly ok: true; readonly added: string[]; readonly changed: string[]; readonly removed: string[]; readonly needsRestart: string[] }
  | { readonly ok: false; readonly message: string };

const MB = 1024 * 1024;

/** The target a route check puts where a new app's tenant will go; the table it is in never serves. */
const ROUTE_CHECK_TARGET: RequestHandler = {
  appName: "",
  mapStack: (stack) => stack,
  fetch: () => Promise.reject(new Error("a route check's table never serves")),
};

/** An app's effective limits as the sandbox takes them. */
export function sandboxLimitsOf(app: ServeApp): SandboxLimits {
  return {
    ...DEFAULT_SANDBOX_LIMITS,
    cpuLimitMs: app.limits.cpuMs,
    memoryLimitMb: app.limits.memoryMb,
    wallLimitMs: app.limits.wallMs,
    startupLimitMs: app.limits.startupMs,
    subrequestLimit: app.limits.subrequests,
  };
}

function tenantSpec(app: ServeApp, name: string, replicas: number): TenantSpec {
  const env: Record<string, string> = { ...app.vars };
  // The one place secrets leave their wrapper: into the app's own env.
  for (const [key, secret] of Object.entries(app.secrets)) env[key] = secret.reveal();
  return {
    name,
    entryPath: app.entry,
    env,
    limits: sandboxLimitsOf(app),
    bodyLimitBytes: app.limits.bodyBytes,
    concurrency: app.limits.concurrency,
    queue: app.limits.queue,
    allowPrivateFetch: app.outbound.allowPrivate,
    outboundAllow: app.outbound.allow,
    ...(app.assets !== undefined ? { assetsDir: app.assets } : {}),
    replicas,
  };
}

/** True if a reload must replace the app's tenant (anything it was built from changed). */
function appChanged(before: ServeApp, after: ServeApp): boolean {
  // Secrets print as "[secret]" in JSON; compare their values on purpose.
  const secrets = (app: ServeApp): string[] => Object.entries(app.secrets).map(([key, secret]) => `${key}=${secret.reveal()}`);
  return JSON.stringify({ ...before, secrets: undefined }) !== JSON.stringify({ ...after, secrets: undefined }) || secrets(before).join("\0") !== secrets(after).join("\0");
}

/** The server's observer option: metrics, the request log and/or the live tails, or none (then no per-request bookkeeping at all). */
function requestObserverOf(metrics: FrontEndMetrics | undefined, log: RequestObserver | undefined, tail?: RequestObserver): { observer?: RequestObserver } {
  const all = [metrics, log, tail].filter((observer): observer is RequestObserver => observer !== undefined);
  if (all.length === 0) return {};
  return { observer: all.length === 1 ? (all[0] as RequestObserver) : observers(all) };
}

export class FrontEnd {
  readonly server: HttpServer;
  /** The admin listener, when the config has an `admin` section. */
  readonly admin: AdminServer | undefined;
  /** Only with an admin listener to read them: counting costs every request (run has none). */
  readonly metrics: FrontEndMetrics | undefined;
  /** Live log tails (GET /apps/:name/tail); only with an admin listener, like the metrics. */
  readonly tail: LogTail | undefined;
  readonly #tenants = new Map<string, Tenant>();
  readonly warm: WarmIsolates;
  readonly #backstop: RssBackstop;
  readonly #context: TenantContext;
  readonly #dispatcher: Dispatcher;
  readonly #options: FrontEndOptions;
  #config: ServeConfig;
  /** Apps created through the admin API (not in the config file), by name. */
  readonly #apiApps = new Map<string, ServeApp>();
  readonly deployments: Deployments | undefined;

  constructor(options: FrontEndOptions) {
    const { config } = options;
    this.#options = options;
    this.#config = config;
    const frontEnd = config.frontEnd;
    this.metrics = config.admin === undefined ? undefined : new FrontEndMetrics({
      apps: () => this.#tenants.values(),
      liveIsolates: () => {
        let count = 0;
        for (const tenant of this.#tenants.values()) count += tenant.liveIsolates().length;
        return count;
      },
      sampledHeapBytes: () => this.warm.heapBytes,
    });
    this.tail = this.metrics === undefined ? undefined : new LogTail({ registry: this.metrics.registry });
    const log = this.tail?.sink(options.log) ?? options.log;
    this.warm = new WarmIsolates({
      onEvict: (key, reason) => this.metrics?.evicted(key, reason),
      maxIsolates: config.cache.maxIsolates,
      maxMemoryBytes: config.cache.maxMemoryMb * MB,
      // 0 in the schema means no idle expiry (run's one app).
      idleTtlMs: config.cache.idleTtlSeconds > 0 ? config.cache.idleTtlSeconds * 1000 : Number.POSITIVE_INFINITY,
    });
    this.#context = {
      scheduler: new EntryScheduler(frontEnd.maxExecuting > 0 ? frontEnd.maxExecuting : undefined),
      warm: this.warm,
      log,
      onCatastrophicError: options.onCatastrophicError,
      inlineEntryThresholdMs: frontEnd.inlineThresholdMs,
      ...(options.inlineEntryGuard ? { inlineEntryGuard: options.inlineEntryGuard } : {}),
      ...(options.inlinePolicy ? { inlinePolicy: options.inlinePolicy } : {}),
      onColdStart: (app) => this.metrics?.coldStart(app),
    };
    this.deployments = options.versions === undefined ? undefined : new Deployments(options.versions, this.#deploymentsHost());
    for (const app of config.apps) this.#tenants.set(app.name, this.#tenantFor(app));
    for (const app of this.deployments?.apiApps() ?? []) {
      this.#apiApps.set(app.name, app);
      this.#tenants.set(app.name, this.#tenantFor(app));
    }
    this.#dispatcher = new Dispatcher(this.#router());
    // The backstop is a last resort behind the warm cache's own bound: by
    // default it allows twice the cache's heap budget (an isolate's RSS is
    // about twice its sampled heap), and never less than run's 4 x memory + 512 MB.
    const largestMemoryMb = Math.max(128, ...config.apps.map((app) => app.limits.memoryMb));
    const rssLimitMb = frontEnd.rssLimitMb > 0 ? frontEnd.rssLimitMb : Math.max(4 * largestMemoryMb + 512, config.apps.length > 1 ? 2 * config.cache.maxMemoryMb : 0);
    this.#backstop = new RssBackstop({ limitBytes: rssLimitMb * MB, isolates: () => this.#liveIsolates(), log });
    this.server = new HttpServer({
      host: config.listen.host,
      port: options.port,
      bodyLimitBytes: config.defaults.limits.bodyBytes,
      dispatcher: this.#dispatcher,
      log,
      ...requestObserverOf(this.metrics, options.requestObserver, this.tail?.observer),
      ...(options.refuseWith ? { refuseWith: options.refuseWith } : {}),
    });
    const admin = config.admin;
    this.admin =
      admin === undefined
        ? undefined
        : new AdminServer({
            host: admin.host,
            port: admin.port,
            auth: new BearerAuth(admin.token?.reveal()),
            routes: new AdminRoutes(adminEndpoints(this.#adminSource())),
            log,
          });
  }

  /**
   * Bind the main port, then the admin port (one step, so a standby that is
   * promoted takes both over). Rejects RuntimeError(PORT_IN_USE).
   */
  async listen(): Promise<void> {
    await this.server.listen();
    await this.admin?.listen();
  }

  /** Hand both ports over to a successor (see HttpServer.handOver); admin requests in flight finish. */
  async handOver(): Promise<void> {
    this.admin?.close();
    await this.server.handOver();
  }

  /** What the admin endpoints read and change. Stats are built per request from the config in force. */
  #adminSource(): AdminSource {
    const statsOf = (app: ServeApp): ReturnType<typeof appStats> => {
      const tenant = this.#tenants.get(app.name);
      return appStats(app, tenant, tenant !== undefined && this.warm.has(tenant.spec.name));
    };
    const allApps = (): ServeApp[] => [...this.#config.apps, ...this.#apiApps.values()];
    return {
      allAppStats: () => Promise.all(allApps().map(statsOf)),
      appStats: async (name) => {
        const app = allApps().find((candidate) => candidate.name === name);
        return app === undefined ? undefined : statsOf(app);
      },
      metrics: () => (this.metrics as FrontEndMetrics).exposition(),
      deployments: () => this.deployments,
      reload: () => this.#options.reloadConfig?.(),
      logTail: (name) => (this.#tenants.has(name) ? this.tail : undefined),
    };
  }

  get tenants(): ReadonlyMap<string, Tenant> {
    return this.#tenants;
  }

  get config(): ServeConfig {
    return this.#config;
  }

  /** A tenant for `app`, serving its deployed version if the store has one (else the config's entry). */
  #tenantFor(app: ServeApp, deployed: DeployedVersion | undefined = this.deployments?.deployedVersion(app.name)): Tenant {
    const tenant = new Tenant(tenantSpec(app, this.#options.logName?.(app) ?? app.name, this.#config.cache.replicas), this.#context, deployed);
    // A stored traffic split too (none for a tenant made with an explicit version: a deploy sets its own).
    if (deployed !== undefined) this.deployments?.applyStoredSplit(tenant);
    return tenant;
  }

  /** The route table of the config's apps and the API's; throws RuntimeError on a bad or conflicting route. */
  #router(apiApps: ReadonlyMap<string, ServeApp> = this.#apiApps, tenants: ReadonlyMap<string, RequestHandler> = this.#tenants): Router<RequestHandler> {
    const routes: Array<{ pattern: string; target: RequestHandler }> = [];
    for (const app of [...this.#config.apps, ...apiApps.values()]) {
      const tenant = tenants.get(app.name);
      if (tenant === undefined) continue;
      for (const route of app.routes) routes.push({ pattern: route.pattern, target: tenant });
    }
    return Router.build(routes);
  }

  /** What Deployments changes: the API apps and their routes. */
  #deploymentsHost(): DeploymentsHost {
    // The route table `app` would make, beside every other app; throws RuntimeError on a bad or conflicting route.
    const routerWith = (app: ServeApp, tenant: RequestHandler): Router<RequestHandler> =>
      this.#router(new Map(this.#apiApps).set(app.name, app), new Map<string, RequestHandler>(this.#tenants).set(app.name, tenant));
    return {
      tenant: (name) => this.#tenants.get(name),
      isConfigApp: (name) => this.#config.apps.some((app) => app.name === name),
      apiApp: (name) => this.#apiApps.get(name),
      apiAppNames: () => [...this.#apiApps.keys()],
      createTenant: (app, deployed) => this.#tenantFor(app, deployed),
      // Only the patterns are checked: a stand-in target, no tenant built for it.
      checkApiApp: (app) => void routerWith(app, this.#tenants.get(app.name) ?? ROUTE_CHECK_TARGET),
      putApiApp: (app, tenant) => {
        const replaced = this.#tenants.get(app.name);
        this.#dispatcher.replaceRoutes(routerWith(app, tenant));
        this.#apiApps.set(app.name, app);
        this.#tenants.set(app.name, tenant);
        // New settings came with a new tenant: the old one finishes what it has.
        if (replaced !== undefined && replaced !== tenant) this.#retireTenant(replaced, this.#config.frontEnd.shutdownTimeoutMs);
      },
      removeApiApp: (name) => {
        const tenant = this.#tenants.get(name);
        if (!this.#apiApps.delete(name) || tenant === undefined) return;
        this.#tenants.delete(name);
        this.#dispatcher.replaceRoutes(this.#router());
        this.#retireTenant(tenant, this.#config.frontEnd.shutdownTimeoutMs);
        this.metrics?.forget(name);
      },
      defaults: () => this.#config.defaults.limits,
      maxIsolateMemoryMb: () => this.#config.cache.maxMemoryMb,
      log: this.#options.log,
      onChanged: () => this.#options.onVersionsChanged?.(),
    };
  }

  /** Takes no new requests; finishes the ones inside, then disposes. */
  #retireTenant(tenant: Tenant, drainMs: number): void {
    tenant.retire();
    this.warm.remove(tenant.spec.name);
    void tenant.drain(drainMs);
  }

  /**
   * Serve `next` from now on (config reload, SIGHUP): new apps are added,
   * removed ones stop taking requests, changed ones get a fresh tenant; the
   * routes are swapped in one step, and requests already inside an old
   * tenant finish there before it is drained and disposed. Listener, cache
   * and front-end settings need a restart; a change to them is reported.
   * Returns what changed, for the log.
   */
  apply(next: ServeConfig, drainMs: number): { added: string[]; changed: string[]; removed: string[]; needsRestart: string[] } {
    const before = new Map(this.#config.apps.map((app) => [app.name, app]));
    const added: string[] = [];
    const changed: string[] = [];
    const retired: Tenant[] = [];
    const nextTenants = new Map<string, Tenant>();
    for (const app of next.apps) {
      const previous = before.get(app.name);
      const current = this.#tenants.get(app.name);
      if (previous === undefined || current === undefined) {
        added.push(app.name);
        nextTenants.set(app.name, this.#tenantFor(app));
      } else if (appChanged(previous, app)) {
        changed.push(app.name);
        retired.push(current);
        nextTenants.set(app.name, this.#tenantFor(app));
      } else {
        nextTenants.set(app.name, current);
      }
    }
    // Apps created through the API stay, unless the file now defines one of the same name (the file wins).
    const previousApiApps = new Map(this.#apiApps);
    for (const name of previousApiApps.keys()) {
      if (nextTenants.has(name)) this.#apiApps.delete(name);
      else nextTenants.set(name, this.#tenants.get(name) as Tenant);
    }
    const removed = [...this.#tenants.keys()].filter((name) => !nextTenants.has(name));
    for (const name of removed) retired.push(this.#tenants.get(name) as Tenant);
    // Build the new table before touching anything: a bad one leaves the old config serving.
    const previousConfig = this.#config;
    const previousTenants = new Map(this.#tenants);
    this.#config = next;
    this.#tenants.clear();
    for (const [name, tenant] of nextTenants) this.#tenants.set(name, tenant);
    try {
      this.#dispatcher.replaceRoutes(this.#router());
    } catch (error) {
      this.#config = previousConfig;
      this.#tenants.clear();
      for (const [name, tenant] of previousTenants) this.#tenants.set(name, tenant);
      for (const [name, app] of previousApiApps) this.#apiApps.set(name, app);
      throw error;
    }
    for (const tenant of retired) this.#retireTenant(tenant, drainMs);
    for (const name of removed) this.metrics?.forget(name);
    const needsRestart = (["listen", "cache", "frontEnd", "admin", "dataDir"] as const).filter(
      (key) => JSON.stringify(previousConfig[key]) !== JSON.stringify(next[key]),
    );
    return { added, changed, removed, needsRestart };
  }

  /** Start the sweeps (warm cache, memory backstop). */
  start(): void {
    this.warm.start();
    this.#backstop.start();
  }

  /** Build and boot every app now (`run` reports a broken app at start); rejects with the first failure. */
  async bootAll(): Promise<void> {
    for (const tenant of this.#tenants.values()) await tenant.start();
  }

  *#liveIsolates(): Generator<ReturnType<Tenant["liveIsolates"]>[number]> {
    for (const tenant of this.#tenants.values()) yield* tenant.liveIsolates();
  }

  /** Wait (bounded) for every app's requests and waitUntil work, then dispose all isolates. */
  async drainApps(timeoutMs: number): Promise<void> {
    this.warm.stop();
    await Promise.all([...this.#tenants.values()].map((tenant) => tenant.drain(timeoutMs)));
  }
}
