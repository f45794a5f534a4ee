import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { parseDevVars } from "./dev-vars.js";
import { RuntimeError } from "./errors.js";

const MB = 1024 * 1024;

/**
 * The schema of `edgehost run`'s configuration; the type is derived from it.
 * Defaults are the issue's: CPU 50 ms, memory 128 MB, wall 30 s, body 100 MB,
 * startup 1 s.
 */
export const runConfigSchema = z
  .object({
    entry: z.string().min(1),
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(8787),
    vars: z.record(z.string()).default({}),
    watch: z.boolean().default(false),
    cpuLimitMs: z.number().positive().max(60_000).default(50),
    memoryLimitMb: z.number().int().min(8).max(16_384).default(128),
    wallLimitMs: z.number().int().positive().max(3_600_000).default(30_000),
    startupLimitMs: z.number().int().positive().max(60_000).default(1000),
    bodyLimitBytes: z.number().int().nonnegative().default(100 * MB),
    subrequestLimit: z.number().int().nonnegative().default(50),
    allowPrivateFetch: z.boolean().default(false),
    /**
     * Isolates whose entries average under this many ms run them inline on
     * the front end's thread; 0 = always isolated-vm's thread pool.
     */
    inlineThresholdMs: z.number().nonnegative().max(50).default(1),
    /** Isolate entries executing at once; 0 = the core count. */
    maxExecuting: z.number().int().nonnegative().default(0),
    /**
     * An inline entry this far past its deadline reports the front end
     * stalled: the standby takes the port and the stalled one retires.
     */
    hangStallMs: z.number().int().positive().max(60_000).default(500),
    /** An inline entry this far past its deadline means the thread is lost: the front end is killed. */
    hangKillMs: z.number().int().positive().max(600_000).default(10_000),
    /**
     * Front-end RSS past which the largest isolate is recycled (the
     * per-process backstop behind the approximate heap limits); 0 = four
     * times the memory limit plus 512 MB.
     */
    rssLimitMb: z.number().int().nonnegative().max(1_048_576).default(0),
    /** Drain time on SIGINT/SIGTERM before in-flight requests are cut. */
    shutdownTimeoutMs: z.number().int().positive().default(10_000),
    /** OS priority (nice) of the threads that run tenant work (sandbox/tenant-thread-priority.ts); 0 (default) = the event loop's. */
    tenantThreadNice: z.number().int().min(0).max(19).default(0),
  })
  .strict();

export type RunConfig = Readonly<z.infer<typeof runConfigSchema>>;

/** Format every zod problem as `path: message`, one per line. */
export function describeZodError(error: z.ZodError, prefix: string): string {
  return error.issues
    .map((issue) => `${prefix}${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("\n");
}

/**
 * Validate `input`, merge `.dev.vars` from beside the entry (flags win), and
 * freeze. Reports every problem at once.
 */
export function resolveRunConfig(input: unknown, cwd: string = process.cwd()): RunConfig {
  const parsed = runConfigSchema.safeParse(input);
  if (!parsed.success) throw new RuntimeError("EDGE_RUNTIME_BAD_CONFIG", describeZodError(parsed.error, ""));
  const config = parsed.data;
  const entry = resolve(cwd, config.entry);
  const devVarsPath = join(dirname(entry), ".dev.vars");
  const devVars = existsSync(devVarsPath) ? parseDevVars(readFileSync(devVarsPath, "utf8"), devVarsPath) : {};
  return Object.freeze({ ...config, entry, vars: Object.freeze({ ...devVars, ...config.vars }) });
}
