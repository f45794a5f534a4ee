import type { TailRecord, TailSubscriber } from "../observability/log-tail.js";
import type { AdminStream } from "./routes.js";

/**
 * A comment line every this often. Proxies and load balancers close a
 * response that has been silent for a while (often 30-60 s); a tail of a
 * quiet app is silent for as long as the app is.
 */
export const HEARTBEAT_MS = 15_000;

/** The first chunk of every tail: makes the client see the head at once, and says how the stream reads. */
export const TAIL_PREAMBLE = ": edgehost tail: events log, request, dropped; data is JSON\n\n";

function event(name: string, data: unknown): string {
  // JSON.stringify escapes CR and LF, so one data line holds the whole record.
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * One live tail as Server-Sent Events. While the client keeps up, each
 * record goes straight to the socket. When a write is not taken whole
 * (uWS then holds the rest: one record), later records wait in a queue of
 * at most `bufferBytes`; past it they are dropped and counted, and once the
 * client has caught up it gets `event: dropped` with the count before the
 * next record. So a slow client costs the host at most its bound plus one
 * record, and never slows the front end: nothing here waits. A client
 * that takes nothing at all for 10 s while data waits is disconnected by
 * uWS (its send timeout), which ends the subscription like any disconnect.
 *
 * Until `attach`, records are queued the same way (the subscription is
 * taken when the request is routed, before the head is written).
 */
export class EventStreamTail implements TailSubscriber {
  readonly #bufferBytes: number;
  #stream: AdminStream | undefined;
  #queue: string[] = [];
  #queued = 0;
  #queuedBytes = 0;
  #dropped = 0;
  /** True while a write was not taken whole and the drain has not come. */
  #waiting = true;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(bufferBytes: number) {
    this.#bufferBytes = bufferBytes;
  }

  get bufferedBytes(): number {
    return this.#queuedBytes;
  }

  /** Start writing to `stream`; `onClose` runs once when it ends, whichever side ends it. */
  attach(stream: AdminStream, onClose: () => void): void {
    this.#stream = stream;
    stream.onDrain(() => this.#flush());
    stream.onClose(() => {
      this.#close();
      onClose();
    });
    if (this.#closed) return;
    this.#heartbeat = setInterval(() => {
      // A client that is behind has data on its way; the comment would only be queued.
      if (!this.#waiting) this.#send(": heartbeat\n\n");
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
    this.#flush();
  }

  deliver(record: TailRecord): void {
    if (this.#closed) return;
    const chunk = event(record.type, record);
    if (!this.#waiting) {
      this.#send(chunk);
      return;
    }
    const bytes = Buffer.byteLength(chunk);
    if (this.#queuedBytes + bytes > this.#bufferBytes) {
      this.#dropped++;
      return;
    }
    this.#noteDropped();
    this.#queue.push(chunk);
    this.#queuedBytes += bytes;
  }

  /** Put the count of records dropped so far in the queue, ahead of the next one (it may pass the bound by its few bytes). */
  #noteDropped(): void {
    if (this.#dropped === 0) return;
    const chunk = event("dropped", { type: "dropped", time: Date.now(), dropped: this.#dropped });
    this.#dropped = 0;
    this.#queue.push(chunk);
    this.#queuedBytes += Buffer.byteLength(chunk);
  }

  /** Write what waits, oldest first, until the socket pushes back again. */
  #flush(): void {
    const stream = this.#stream;
    if (stream === undefined || this.#closed) return;
    this.#waiting = false;
    this.#noteDropped();
    const queue = this.#queue;
    while (this.#queued < queue.length) {
      const chunk = queue[this.#queued] as string;
      // The slot lets go of the text at once: sent records must not stay reachable from here.
      queue[this.#queued] = "";
      this.#queued++;
      this.#queuedBytes -= Buffer.byteLength(chunk);
      if (!this.#send(chunk)) break;
    }
    if (this.#queued === queue.length) {
      this.#queue = [];
      this.#queued = 0;
      this.#queuedBytes = 0;
    } else if (this.#queued > 1024) {
      this.#queue = queue.slice(this.#queued);
      this.#queued = 0;
    }
  }

  /** Write one chunk; false if the stream pushed back (then queue until the drain). */
  #send(chunk: string): boolean {
    const stream = this.#stream;
    if (stream === undefined || !stream.isOpen) return false;
    if (stream.write(chunk)) return true;
    this.#waiting = true;
    return false;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#queue = [];
    this.#queued = 0;
    this.#queuedBytes = 0;
  }
}
