/**
 * A minimal async mutex: `run` calls queue behind each other and run one at
 * a time, in call order. A failing call does not block the ones after it.
 */
export class AsyncMutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    // The chain must not reject, or the next caller would inherit this failure.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
