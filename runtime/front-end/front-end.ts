/**
 * Everything one front-end process serves, built from one ServeConfig:
 * `edgehost serve edgehost.json` and `edgehost run app.ts` (a one-app
 * config, runtime/config/single-app.ts) take this same path. Building it
 * boots nothing: each app's bundle and isolate are made on its first
 * request (or at once, for `run`, which reports a broken app at start).
 */
import { DEFAULT_SANDBOX_LIMITS, EntryScheduler, WarmIsolates, type InlineEntryGuard, type InlinePolicy, type SandboxLimits } from "../../sandbox/index.js";
import type { ServeApp, ServeConfig } from "../config/index.js";
import type { ErrorReply } from "../error-response.js";
import { HttpServer, type RequestHandler } from "../http-server.js";
import type { LogSink } from "../logger.js";
import { RssBackstop } from "../rss-backstop.js";
import { Dispatcher } from "./dispatcher.js";
import { Router } from "./router.js";
import { Tenant, type TenantContext, type TenantSpec } from "./tenant.js";

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
}

const MB = 1024 * 1024;

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

function tenantSpec(app: ServeApp, name: string): TenantSpec {
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
  };
}

export class FrontEnd {
  readonly server: HttpServer;
  readonly tenants: ReadonlyMap<string, Tenant>;
  readonly warm: WarmIsolates;
  readonly #backstop: RssBackstop;

  constructor(options: FrontEndOptions) {
    const { config, log } = options;
    const frontEnd = config.frontEnd;
    this.warm = new WarmIsolates({
      maxIsolates: config.cache.maxIsolates,
      maxMemoryBytes: config.cache.maxMemoryMb * MB,
      // 0 in the schema means no idle expiry (run's one app).
      idleTtlMs: config.cache.idleTtlSeconds > 0 ? config.cache.idleTtlSeconds * 1000 : Number.POSITIVE_INFINITY,
    });
    const context: TenantContext = {
      scheduler: new EntryScheduler(frontEnd.maxExecuting > 0 ? frontEnd.maxExecuting : undefined),
      warm: this.warm,
      log,
      onCatastrophicError: options.onCatastrophicError,
      inlineEntryThresholdMs: frontEnd.inlineThresholdMs,
      ...(options.inlineEntryGuard ? { inlineEntryGuard: options.inlineEntryGuard } : {}),
      ...(options.inlinePolicy ? { inlinePolicy: options.inlinePolicy } : {}),
    };
    const tenants = new Map<string, Tenant>();
    const routes: Array<{ pattern: string; target: RequestHandler }> = [];
    for (const app of config.apps) {
      const tenant = new Tenant(tenantSpec(app, options.logName?.(app) ?? app.name), context);
      tenants.set(app.name, tenant);
      for (const route of app.routes) routes.push({ pattern: route.pattern, target: tenant });
    }
    this.tenants = tenants;
    const largestMemoryMb = Math.max(128, ...config.apps.map((app) => app.limits.memoryMb));
    const rssLimitMb = frontEnd.rssLimitMb > 0 ? frontEnd.rssLimitMb : 4 * largestMemoryMb + 512;
    this.#backstop = new RssBackstop({ limitBytes: rssLimitMb * MB, isolates: () => this.#liveIsolates(), log });
    this.server = new HttpServer({
      host: config.listen.host,
      port: options.port,
      bodyLimitBytes: config.defaults.limits.bodyBytes,
      dispatcher: new Dispatcher(Router.build(routes)),
      log,
      ...(options.refuseWith ? { refuseWith: options.refuseWith } : {}),
    });
  }

  /** Start the sweeps (warm cache, memory backstop). */
  start(): void {
    this.warm.start();
    this.#backstop.start();
  }

  /** Build and boot every app now (`run` reports a broken app at start); rejects with the first failure. */
  async bootAll(): Promise<void> {
    for (const tenant of this.tenants.values()) await tenant.start();
  }

  *#liveIsolates(): Generator<ReturnType<Tenant["liveIsolates"]>[number]> {
    for (const tenant of this.tenants.values()) yield* tenant.liveIsolates();
  }

  /** Wait (bounded) for every app's requests and waitUntil work, then dispose all isolates. */
  async drainApps(timeoutMs: number): Promise<void> {
    this.warm.stop();
    await Promise.all([...this.tenants.values()].map((tenant) => tenant.drain(timeoutMs)));
  }
}
