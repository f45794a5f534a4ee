/**
 * Things a request started that must not outlive it (timers, outbound
 * fetches), keyed by the id the prelude gave them. Dropping a request
 * cancels everything it still owns.
 */
export class OwnedResources<Owner> {
  readonly #entries = new Map<number, { readonly owner: Owner; readonly cancel: () => void }>();

  get size(): number {
    return this.#entries.size;
  }

  add(id: number, owner: Owner, cancel: () => void): void {
    this.#entries.get(id)?.cancel();
    this.#entries.set(id, { owner, cancel });
  }

  /** Forget `id` without cancelling it (it finished); false if it was not there. */
  settle(id: number): boolean {
    return this.#entries.delete(id);
  }

  /** Cancel and forget `id`. */
  cancel(id: number): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    entry.cancel();
  }

  /** Cancel everything `owner` still has. */
  cancelOwnedBy(owner: Owner): void {
    for (const [id, entry] of this.#entries) {
      if (entry.owner === owner) {
        this.#entries.delete(id);
        entry.cancel();
      }
    }
  }

  cancelAll(): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) entry.cancel();
  }
}
