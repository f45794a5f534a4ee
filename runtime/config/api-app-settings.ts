/**
 * Settings of an app created through the admin API: what the config file
 * gives its own apps under `vars`, `limits` and `outbound.allow`, sent with
 * a deploy and kept in the version store. Checked by the config file's own
 * rules (the same limit ranges, binding names and host patterns), so an
 * API app can be given nothing a config app could not. Secrets, assets and
 * private fetches stay config-file only: they name files and environment
 * variables of the operator's machine.
 */
import { z } from "zod";
import { parseHostPattern } from "./host-pattern.js";
import { mergeLimits } from "./limits.js";
import { isBindingName, limitsSchema, type LimitsOverride } from "./schema.js";
import type { AppLimits, HostPattern, OutboundConfig } from "./types.js";

/** As stored and as sent: each field replaces the stored one when given, and is kept when not. */
export interface ApiAppSettings {
  readonly vars?: Readonly<Record<string, string>>;
  readonly limits?: LimitsOverride;
  readonly outbound?: { readonly allow?: readonly string[] };
}

/** At most this many vars and allow patterns, as the config file's lists. */
const MAX_VARS = 1000;
const MAX_ALLOW = 1000;
/** A var's value: the size of a small config document, not a data store. */
const MAX_VAR_BYTES = 64 * 1024;

const settingsSchema = z
  .object({
    vars: z.record(z.string()).optional(),
    limits: limitsSchema.optional(),
    outbound: z.object({ allow: z.array(z.string()).max(MAX_ALLOW).optional() }).strict().optional(),
  })
  .strict();

/** `raw` (a deploy body's `settings`) checked; a string is every problem, with its path, in one line. */
export function parseApiAppSettings(raw: unknown): ApiAppSettings | string {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => `settings${issue.path.map((part) => (typeof part === "number" ? `[${part}]` : `.${part}`)).join("")}: ${issue.message}`).join("; ");
  }
  const problems: string[] = [];
  const vars = parsed.data.vars;
  if (vars !== undefined) {
    const names = Object.keys(vars);
    if (names.length > MAX_VARS) problems.push(`settings.vars: at most ${MAX_VARS} vars`);
    for (const name of names) {
      if (!isBindingName(name)) problems.push(`settings.vars: ${JSON.stringify(name.slice(0, 64))} is not a binding name (1 to 256 characters, not __proto__)`);
      else if (Buffer.byteLength(vars[name] as string) > MAX_VAR_BYTES) problems.push(`settings.vars.${name}: longer than ${MAX_VAR_BYTES} bytes`);
    }
  }
  for (const [index, pattern] of (parsed.data.outbound?.allow ?? []).entries()) {
    const host = parseHostPattern(pattern);
    if (typeof host === "string") problems.push(`settings.outbound.allow[${index}]: ${JSON.stringify(pattern.slice(0, 64))}: ${host}`);
  }
  if (problems.length > 0) return problems.join("; ");
  return parsed.data as ApiAppSettings;
}

/** `update`'s fields over `stored`'s (a field not sent is kept). */
export function mergeApiAppSettings(stored: ApiAppSettings | undefined, update: ApiAppSettings | undefined): ApiAppSettings {
  return { ...(stored ?? {}), ...(update ?? {}) };
}

/** What the settings make of an app: its env vars, effective limits and outbound rules. */
export interface ResolvedApiAppSettings {
  readonly vars: Readonly<Record<string, string>>;
  readonly limits: AppLimits;
  readonly outbound: OutboundConfig;
}

/** Stored settings resolved against the config's defaults; a string names what no longer passes (the store was edited by hand). */
export function resolveApiAppSettings(settings: ApiAppSettings | undefined, defaults: AppLimits): ResolvedApiAppSettings | string {
  const checked = settings === undefined ? {} : parseApiAppSettings(settings);
  if (typeof checked === "string") return checked;
  let allow: HostPattern[] | undefined;
  if (checked.outbound?.allow !== undefined) {
    allow = [];
    for (const pattern of checked.outbound.allow) allow.push(parseHostPattern(pattern) as HostPattern);
  }
  return Object.freeze({
    vars: Object.freeze({ ...(checked.vars ?? {}) }),
    limits: mergeLimits(defaults, checked.limits ?? {}),
    outbound: Object.freeze({ ...(allow === undefined ? {} : { allow: Object.freeze(allow) }), allowPrivate: false }),
  });
}
