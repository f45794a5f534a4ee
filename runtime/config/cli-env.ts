import type { Environment } from "./secrets.js";

/** The variable `edgehost tail` (and later deploy commands) read the admin token from. */
export const ADMIN_TOKEN_ENV = "EDGEHOST_ADMIN_TOKEN";

/** The admin token for CLI commands that call the admin API; undefined when unset or empty. */
export function cliAdminToken(env: Environment = process.env): string | undefined {
  const token = env[ADMIN_TOKEN_ENV];
  return token === undefined || token === "" ? undefined : token;
}
