import type { AppLimits, ServeApp } from "../config/index.js";
import type { Tenant } from "../front-end/tenant.js";

/**
 * One app as the admin API shows it. Built field by field from what is
 * safe to show (never by spreading a ServeApp or a TenantSpec: those hold
 * secrets, and a new field there must not appear here by accident).
 */
export interface AppStats {
  readonly name: string;
  readonly routes: readonly string[];
  /** warm: in the warm-isolate cache (its next request finds an isolate); cold: its next request starts one. */
  readonly state: "warm" | "cold";
  /** Live isolates (the current one and any retiring after an eviction or reload). */
  readonly isolates: number;
  readonly inFlight: number;
  readonly queued: number;
  /** Responses the app produced since this front end started. */
  readonly requestsServed: number;
  /** Heap bytes of its live isolates, read now. */
  readonly heapBytes: number;
  readonly limits: AppLimits;
  /** Where its code comes from: the config file's entry, or a version deployed through the admin API. */
  readonly source: "config" | "deployed";
  /** The deployed version serving it, or null for the config's entry. */
  readonly activeVersion: string | null;
  /** A traffic split in force: `percent` of requests to `versionId`. */
  readonly split: { readonly versionId: string | null; readonly percent: number } | null;
}

/** The stats of `app`; `tenant` is undefined only between a reload's config swap and its tenants (never in practice). */
export async function appStats(app: ServeApp, tenant: Tenant | undefined, warm: boolean): Promise<AppStats> {
  const { cpuMs, memoryMb, wallMs, startupMs, bodyBytes, subrequests, concurrency, queue } = app.limits;
  return {
    name: app.name,
    routes: app.routes.map((route) => route.pattern),
    state: warm ? "warm" : "cold",
    isolates: tenant?.liveIsolates().length ?? 0,
    inFlight: tenant?.inFlight ?? 0,
    queued: tenant?.queued ?? 0,
    requestsServed: tenant?.requestsServed ?? 0,
    heapBytes: (await tenant?.sampleHeapBytes()) ?? 0,
    limits: { cpuMs, memoryMb, wallMs, startupMs, bodyBytes, subrequests, concurrency, queue },
    source: tenant?.activeVersionId == null ? "config" : "deployed",
    activeVersion: tenant?.activeVersionId ?? null,
    split: tenant?.split ?? null,
  };
}
