/** Stalls (inline entries to or past their budget, any app) that close inline entries to every app... */
export const LOCKDOWN_STALLS = 2;
/** ...when they fall within this window (inline entries reopen once fewer than that are). */
export const LOCKDOWN_WINDOW_MS = 10 * 60_000;

/**
 * Which apps may run their isolate entries inline, on the front end's own
 * thread (see EntryRunner). Inline entries are the fast path (measured on
 * the hello app, one core: ~51k req/s inline against ~33k on isolated-vm's
 * thread pool), but `timeout` cannot interrupt some V8 built-ins (a
 * comparator-less `TypedArray.prototype.sort` of 8e6 doubles runs ~1 s in
 * C++), and while an inline entry runs, the whole front end waits.
 *
 * So an app earns inline entries by being fast, and loses them for good the
 * first time one of its inline entries runs to or past its CPU budget: one
 * stall per app, no more. (Merely slow entries only move an isolate to the
 * pool until it is fast again: see EntryRunner.) "For good" outlives the isolate (recycles keep the verdict, it is
 * keyed by app) and the process: the front end reports the demotion to the
 * supervisor, which hands it to the standby and to every later front end.
 *
 * One stall per app is not a bound once apps are cheap to come by (under
 * `serve`, a tenant can deploy app after app, each fresh and fast until it
 * stalls). So the process also counts stalls: after LOCKDOWN_STALLS of them
 * within LOCKDOWN_WINDOW_MS, no app runs inline until the window has passed
 * the last one. An attack then costs everyone the inline fast path for a
 * while (~35% of hello throughput), never more than a few stalls per window.
 */
export class InlinePolicy {
  readonly #demoted = new Set<string>();
  readonly #onDemote: ((appKey: string, entryMs: number) => void) | undefined;
  readonly #now: () => number;
  /** When the recent stalls happened (this process's and those adopted from others), oldest first. */
  readonly #recentStalls: number[] = [];

  /**
   * @param demoted apps already demoted elsewhere (from the supervisor).
   * @param onDemote told once per app when this process demotes it.
   * @param options.recentStallsAt when earlier front ends' stalls happened (epoch ms), so a lockdown outlives them;
   *   options.now: the clock in epoch ms (tests pass their own).
   */
  constructor(
    demoted: Iterable<string> = [],
    onDemote?: (appKey: string, entryMs: number) => void,
    options: { readonly recentStallsAt?: readonly number[]; readonly now?: () => number } = {},
  ) {
    for (const appKey of demoted) this.#demoted.add(appKey);
    this.#onDemote = onDemote;
    this.#now = options.now ?? Date.now;
    const at = (options.recentStallsAt ?? []).filter((time) => Number.isFinite(time)).sort((a, b) => a - b);
    this.#recentStalls.push(...at.slice(-LOCKDOWN_STALLS));
  }

  /** True if `appKey` may run entries inline now: not demoted, and the process is not in lockdown. */
  isAllowed(appKey: string): boolean {
    return !this.#demoted.has(appKey) && !this.isLockedDown;
  }

  /** True once `appKey` lost inline entries for good. */
  isDemoted(appKey: string): boolean {
    return this.#demoted.has(appKey);
  }

  /** True while too many stalls were recent for any app to run inline. */
  get isLockedDown(): boolean {
    const since = this.#now() - LOCKDOWN_WINDOW_MS;
    while (this.#recentStalls.length > 0 && (this.#recentStalls[0] as number) <= since) this.#recentStalls.shift();
    return this.#recentStalls.length >= LOCKDOWN_STALLS;
  }

  /** One of `appKey`'s inline entries ran `entryMs` ms: never inline again. */
  demote(appKey: string, entryMs: number): void {
    if (this.#demoted.has(appKey)) return;
    this.#demoted.add(appKey);
    this.#noteStall();
    this.#onDemote?.(appKey, entryMs);
  }

  /** Record a demotion decided by another process just now (it counts towards lockdown too); does not report it back. */
  adopt(appKey: string): void {
    if (this.#demoted.has(appKey)) return;
    this.#demoted.add(appKey);
    this.#noteStall();
  }

  #noteStall(): void {
    this.#recentStalls.push(this.#now());
    if (this.#recentStalls.length > LOCKDOWN_STALLS) this.#recentStalls.shift();
  }

  /** Apps demoted so far. */
  get demoted(): readonly string[] {
    return [...this.#demoted];
  }
}
