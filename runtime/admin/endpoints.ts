import { ADMIN_NO_SUCH_APP } from "../error-response.js";
import type { AppStats } from "./app-stats.js";
import { deployEndpoints, type DeploySource } from "./deploy-endpoints.js";
import { json, type AdminRoute } from "./routes.js";
import { tailEndpoint, type TailSource } from "./tail-endpoint.js";

/** What the admin endpoints read: implemented over a FrontEnd (front-end-source.ts). */
export interface AdminSource extends DeploySource, TailSource {
  /** Every configured app, in config order. */
  allAppStats(): Promise<AppStats[]>;
  /** One app, or undefined if none has this name. */
  appStats(name: string): Promise<AppStats | undefined>;
  /** The Prometheus exposition of this front end's metrics. */
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
}

/**
 * The admin API's endpoints: the read-only ones here, the ones that change
 * what is served in deploy-endpoints.ts. A new endpoint is an entry in one
 * of the lists, with what it needs added to AdminSource.
 */
export function adminEndpoints(source: AdminSource): AdminRoute[] {
  return [
    { method: "GET", path: "/healthz", handle: () => json({ ok: true }) },
    { method: "GET", path: "/apps", handle: async () => json({ apps: await source.allAppStats() }) },
    {
      method: "GET",
      path: "/apps/:name",
      handle: async (request) => {
        const stats = await source.appStats(request.params.name ?? "");
        return stats === undefined ? ADMIN_NO_SUCH_APP : json(stats);
      },
    },
    {
      method: "GET",
      path: "/metrics",
      handle: async () => {
        const { contentType, text } = await source.metrics();
        return { status: 200, contentType, body: text };
      },
    },
    tailEndpoint(source),
    ...deployEndpoints(source),
  ];
}
