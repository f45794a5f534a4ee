import { bodyArgument, exactArrayBuffer } from "./entry-body.js";
import type { FetchedBody } from "./fetched-body.js";

/** What the registry needs from the isolate that owns it. */
export interface FetchedBodiesHost<Owner> {
  /** Run dispatch(...args) for `owner`; `onDone` once the arguments are in the isolate or dropped. */
  enter(owner: Owner, args: [string, ...unknown[]], onDone?: () => void): void;
  /** Run dispatch(...args) for no live request (on the isolate's background budget). */
  enterBackground(args: [string, ...unknown[]]): void;
}

interface Entry<Owner> {
  owner: Owner;
  readonly body: FetchedBody;
  pulling: boolean;
  /** The app returned the body as its response's: the response writer reads it, the prelude no longer does. */
  direct: boolean;
}

/** What the prelude is told when it pulls a body the host no longer has. */
const GONE = "The response body is no longer available: the request that fetched it is over";

/**
 * One isolate's streamed subrequest bodies, by the fetch's call id, each
 * owned by the request that fetched it. The prelude's host.fetchBodyPull
 * asks for the next chunk, answered by dispatch("fetch-body", callId,
 * chunk, "data" | "end" | "error", message) as an entry of the owning
 * request; host.fetchBodyCancel, the owner's end and the isolate's disposal
 * cancel the upstream. Call ids come from the isolate: any value is checked
 * against the table, and an unknown one only gets an error back.
 */
export class FetchedBodies<Owner> {
  readonly #host: FetchedBodiesHost<Owner>;
  readonly #bodies = new Map<number, Entry<Owner>>();

  constructor(host: FetchedBodiesHost<Owner>) {
    this.#host = host;
  }

  get size(): number {
    return this.#bodies.size;
  }

  add(callId: number, owner: Owner, body: FetchedBody): void {
    this.#bodies.get(callId)?.body.cancel();
    this.#bodies.set(callId, { owner, body, pulling: false, direct: false });
  }

  /**
   * The app answers request `owner` with fetch `callId`'s body untouched:
   * hand the body to the response writer (see DirectFetchedBody). It stays
   * here, owned by `owner`, so that fetchBodyCancel (an abort of the fetch's
   * signal), the owner's end and the isolate's disposal still cancel it.
   * undefined if the body is gone, or the prelude already reads it.
   */
  takeForResponse(callId: unknown, owner: Owner): FetchedBody | undefined {
    const entry = this.#bodies.get(Number(callId));
    if (entry === undefined || entry.pulling || entry.direct) return undefined;
    entry.direct = true;
    entry.owner = owner;
    return entry.body;
  }

  /** The response writer is done with fetch `callId`'s body (ended, failed or cancelled). */
  forget(callId: number, body: FetchedBody): void {
    if (this.#bodies.get(callId)?.body === body) this.#bodies.delete(callId);
  }

  /** host.fetchBodyPull(callId): hand the next chunk over once there is one. */
  pull(callId: unknown): void {
    const id = Number(callId);
    const entry = this.#bodies.get(id);
    if (entry === undefined) {
      this.#host.enterBackground(["fetch-body", id, null, "error", GONE]);
      return;
    }
    // The prelude pulls one at a time (a second pull while one waits is
    // ignored), and not at all once the response writer reads the body.
    if (entry.pulling || entry.direct) return;
    entry.pulling = true;
    entry.body.pull().then(
      (chunk) => {
        entry.pulling = false;
        if (this.#bodies.get(id) !== entry) {
          chunk.release();
          return;
        }
        if (chunk.done) this.#bodies.delete(id);
        const state = chunk.done ? "end" : "data";
        const bytes = chunk.bytes === null ? null : bodyArgument(exactArrayBuffer(chunk.bytes));
        // The chunk stays counted until the entry has moved it into the isolate.
        this.#host.enter(entry.owner, ["fetch-body", id, bytes, state, ""], () => chunk.release());
      },
      (error: unknown) => {
        entry.pulling = false;
        if (this.#bodies.get(id) !== entry) return;
        this.#bodies.delete(id);
        const message = error instanceof Error ? error.message : String(error);
        this.#host.enter(entry.owner, ["fetch-body", id, null, "error", message]);
      },
    );
  }

  /** host.fetchBodyCancel(callId): the app cancelled the body. */
  cancel(callId: unknown): void {
    const id = Number(callId);
    const entry = this.#bodies.get(id);
    if (entry === undefined) return;
    this.#bodies.delete(id);
    entry.body.cancel();
  }

  /**
   * `owner` is over: cancel its bodies. A pull still waiting is told the
   * body is gone (as background work), so the app's read fails rather than
   * waiting for ever.
   */
  cancelOwnedBy(owner: Owner): void {
    for (const [id, entry] of this.#bodies) {
      if (entry.owner !== owner) continue;
      this.#bodies.delete(id);
      entry.body.cancel();
      if (entry.pulling) this.#host.enterBackground(["fetch-body", id, null, "error", GONE]);
    }
  }

  /** The isolate is gone: cancel everything, tell nobody. */
  cancelAll(): void {
    const entries = [...this.#bodies.values()];
    this.#bodies.clear();
    for (const entry of entries) entry.body.cancel();
  }
}
