/**
 * Told when an inline entry (applySync on the caller's thread) starts and
 * ends. An inline entry that never returns would freeze the whole thread:
 * after a catastrophic V8 out-of-memory error in an isolate running on the
 * main thread, isolated-vm never returns from applySync and never gets to
 * report the error. Only another thread can notice that; the runtime
 * provides one (runtime/hang-watchdog.ts).
 */
export interface InlineEntryGuard {
  /** An inline entry of app `appKey` starts; it should be over by `deadlineMs` (Date.now() scale). */
  enter(deadlineMs: number, appKey: string): void;
  /** The inline entry returned. */
  exit(): void;
}
