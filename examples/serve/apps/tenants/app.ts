/**
 * One app for many customers, told apart by subdomain
 * (`acme.tenants.localhost`). It reads a secret but never shows it.
 */
interface Env {
  PLAN: string;
  API_KEY?: string;
}

export default {
  fetch(request: Request, env: Env): Response {
    const host = new URL(request.url).hostname;
    const tenant = host.endsWith(".tenants.localhost") ? host.slice(0, -".tenants.localhost".length) : null;
    return Response.json({ tenant, plan: env.PLAN, hasApiKey: typeof env.API_KEY === "string" && env.API_KEY.length > 0 });
  },
};
