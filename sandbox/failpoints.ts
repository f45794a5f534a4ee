import { SandboxError } from "./errors.js";

/**
 * Fault injection for tests, after etcd's gofail: named points in the
 * sandbox that force an outcome the real trigger reaches only by chance.
 * A point is on only when its name is listed in the `EDGEHOST_FAILPOINTS`
 * environment variable (comma-separated); unset, as in production, every
 * point is off and a check is one Set lookup on an empty set.
 *
 * Points:
 * - `oom-catastrophic`: an isolate's memory-limit breach is turned into what
 *   V8's fatal out-of-memory error does instead. Growing a `Map` past the
 *   heap limit ends, by a race inside isolated-vm, either as an ordinary
 *   breach (its GC callback terminates the isolate) or as a fatal OOM
 *   (`onCatastrophicError`); on isolated-vm 5.0.4 at 128 MB, short series of
 *   runs here ended ordinary in a quarter to two thirds of them. With a limit large enough for the `Map` to
 *   reach V8's maximum table size first (1 GB), V8 throws a catchable
 *   `RangeError: Map maximum size exceeded` instead, so no real trigger was
 *   found that is both certain and cheap. With this point on, a breach on the
 *   thread pool reports itself catastrophic and leaves the isolate unsettled,
 *   and a breach in an inline entry never returns, as the real error does.
 * - `host-memory-report`: not a fault but a probe. When a request is over,
 *   its app's host-memory account (host-memory.ts) is logged: bytes held now
 *   and the most ever held at once. Tests of bounded bodies assert on the
 *   host's own accounting this way instead of on RSS or timing.
 * - `host-work-report`: a probe too. When a request is over, the host work
 *   charged to its app so far (host-work.ts: decoding its subrequest
 *   bodies), in ms, is logged, so a test can bound the app's rate.
 * - `manifest-crash-before-rename`: the version store (runtime/versions/)
 *   kills its own process with SIGKILL after it has written and fsynced a new
 *   manifest's temp file and before it renames it over manifest.json: the
 *   crash an atomic write must survive, at the one moment that tests it.
 * - `tail-small-buffer`: not a fault but a test knob. Each live log tail
 *   (runtime/observability/log-tail.ts) buffers 16 KiB for a client that
 *   reads too slowly instead of 256 KiB, so a test reaches the bound (and
 *   the `dropped` event) with a few requests' worth of logs.
 * - `log-small-queue`: a test knob too. The JSON log queues 64 KiB for a
 *   stdout that is not read (runtime/observability/json-log.ts) instead of
 *   32 MiB, so a test reaches the drop with a few hundred requests.
 * - `late-pooled-completion`: an entry on isolated-vm's thread pool is
 *   charged 50 ms after isolated-vm hands back its completion, as happens
 *   under load when that task comes turns after the response the entry sent
 *   (entry-runner.ts). Tests that a request's report waits for its CPU.
 */
export const FAILPOINT_NAMES = [
  "oom-catastrophic",
  "host-memory-report",
  "host-work-report",
  "manifest-crash-before-rename",
  "tail-small-buffer",
  "log-small-queue",
  "late-pooled-completion",
] as const;

/** How late `late-pooled-completion` charges a pooled entry, ms. */
export const LATE_COMPLETION_MS = 50;

/** A known fault-injection point. */
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

/** The environment variable that lists the enabled points. */
export const FAILPOINTS_ENV = "EDGEHOST_FAILPOINTS";

function parseFailpoints(value: string | undefined): ReadonlySet<FailpointName> {
  const enabled = new Set<FailpointName>();
  for (const raw of (value ?? "").split(",")) {
    const name = raw.trim();
    if (name === "") continue;
    // A misspelt point must not pass silently: the test relying on it would test nothing.
    if (!(FAILPOINT_NAMES as readonly string[]).includes(name)) {
      throw new SandboxError("EDGE_SANDBOX_UNKNOWN_FAILPOINT", `unknown failpoint "${name}" in ${FAILPOINTS_ENV} (known: ${FAILPOINT_NAMES.join(", ")})`);
    }
    enabled.add(name as FailpointName);
  }
  return enabled;
}

// The one read of process.env outside the config module, on purpose: fault
// injection is not configuration (no flag, no schema field production would
// carry), and every process of the tree inherits the variable, so a test sets
// it once on the supervisor and the front ends and standbys see it too.
const ENABLED = parseFailpoints(process.env[FAILPOINTS_ENV]);

/** True if the point `name` was enabled in EDGEHOST_FAILPOINTS at start-up. */
export function isFailpointOn(name: FailpointName): boolean {
  return ENABLED.has(name);
}

/**
 * Block the calling thread for good, as isolated-vm does on the thread that
 * met V8's fatal OOM (it sleeps in a loop so the process can be torn down
 * from elsewhere). Only another thread (the hang watchdog) can end it.
 */
export function freezeThisThread(): never {
  const cell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  for (;;) Atomics.wait(cell, 0, 0);
}
