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
 */
export class InlinePolicy {
  readonly #demoted = new Set<string>();
  readonly #onDemote: ((appKey: string, entryMs: number) => void) | undefined;

  /**
   * @param demoted apps already demoted elsewhere (from the supervisor).
   * @param onDemote told once per app when this process demotes it.
   */
  constructor(demoted: Iterable<string> = [], onDemote?: (appKey: string, entryMs: number) => void) {
    for (const appKey of demoted) this.#demoted.add(appKey);
    this.#onDemote = onDemote;
  }

  /** True if `appKey` may still run entries inline. */
  isAllowed(appKey: string): boolean {
    return !this.#demoted.has(appKey);
  }

  /** One of `appKey`'s inline entries ran `entryMs` ms: never inline again. */
  demote(appKey: string, entryMs: number): void {
    if (this.#demoted.has(appKey)) return;
    this.#demoted.add(appKey);
    this.#onDemote?.(appKey, entryMs);
  }

  /** Record a demotion decided by another process; does not report it back. */
  adopt(appKey: string): void {
    this.#demoted.add(appKey);
  }

  /** Apps demoted so far. */
  get demoted(): readonly string[] {
    return [...this.#demoted];
  }
}
