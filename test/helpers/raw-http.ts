import { connect, type Socket } from "node:net";

/** One HTTP/1.1 response as a client framing by RFC 9112 reads it. */
export interface RawResponse {
  readonly status: number;
  /** Names lower-cased, in wire order, repeats kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** The exact bytes of the status line and header section. */
  readonly head: string;
}

/** Values of header `name` (lower-case) in `response`. */
export function headerValues(response: RawResponse, name: string): string[] {
  return response.headers.filter(([key]) => key === name).map(([, value]) => value);
}

/**
 * Frame one response at the start of `data` the way RFC 9112 section 6.3
 * says a client must: Transfer-Encoding chunked wins over Content-Length,
 * then Content-Length, else the body runs to the close. Returns undefined
 * while the bytes are incomplete, and the response and the bytes after it.
 */
export function parseResponse(data: Buffer, closed: boolean): { response: RawResponse; rest: Buffer } | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const head = data.subarray(0, headEnd).toString("latin1");
  const [statusLine, ...lines] = head.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const field = (name: string): string[] => headers.filter(([key]) => key === name).map(([, value]) => value);
  let offset = headEnd + 4;
  const transferEncoding = field("transfer-encoding");
  const contentLength = field("content-length");
  if (transferEncoding.length > 0) {
    const chunks: Buffer[] = [];
    for (;;) {
      const lineEnd = data.indexOf("\r\n", offset);
      if (lineEnd < 0) return undefined;
      const size = parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
      if (!Number.isInteger(size)) throw new Error("bad chunk size");
      offset = lineEnd + 2;
      if (size === 0) {
        if (data.length < offset + 2) return undefined;
        offset += 2;
        break;
      }
      if (data.length < offset + size + 2) return undefined;
      chunks.push(data.subarray(offset, offset + size));
      offset += size + 2;
    }
    return { response: { status, headers, head, body: Buffer.concat(chunks) }, rest: data.subarray(offset) };
  }
  if (contentLength.length > 0) {
    if (new Set(contentLength).size > 1) throw new Error(`conflicting Content-Length: ${contentLength.join(", ")}`);
    const length = Number(contentLength[0]);
    if (data.length < offset + length) return undefined;
    return { response: { status, headers, head, body: data.subarray(offset, offset + length) }, rest: data.subarray(offset + length) };
  }
  if (status === 204 || status === 304) return { response: { status, headers, head, body: Buffer.alloc(0) }, rest: data.subarray(offset) };
  if (!closed) return undefined;
  return { response: { status, headers, head, body: data.subarray(offset) }, rest: Buffer.alloc(0) };
}

/**
 * A raw TCP connection to a test server: write bytes, read responses one
 * at a time as a keep-alive client would, or wait for the server to close.
 */
export class RawConnection {
  readonly #socket: Socket;
  #data: Buffer = Buffer.alloc(0);
  #closed = false;
  #waiters: Array<() => void> = [];
  readonly #connected: Promise<void>;

  constructor(port: number) {
    this.#socket = connect(port, "127.0.0.1");
    this.#connected = new Promise((resolve, reject) => {
      this.#socket.once("connect", resolve);
      this.#socket.once("error", reject);
    });
    this.#socket.on("data", (chunk: Buffer) => {
      this.#data = Buffer.concat([this.#data, chunk]);
      this.#wake();
    });
    // A reset counts as a close: the tests ask whether the server let go.
    this.#socket.on("error", () => undefined);
    this.#socket.on("close", () => {
      this.#closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    waiters.forEach((waiter) => waiter());
  }

  async #until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = check();
      if (result !== undefined) return result;
      if (this.#closed) throw new Error(`connection closed before ${what}; got ${JSON.stringify(this.#data.toString("latin1"))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.#data.toString("latin1"))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Write raw bytes (a string is sent as latin1, byte for byte). */
  async send(bytes: string | Buffer): Promise<void> {
    await this.#connected;
    this.#socket.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** The next whole response (framed by RFC 9112); rejects on close or timeout. */
  nextResponse(timeoutMs = 5000): Promise<RawResponse> {
    return this.#until(
      () => {
        const parsed = parseResponse(this.#data, this.#closed);
        if (parsed === undefined) return undefined;
        this.#data = parsed.rest;
        return parsed.response;
      },
      timeoutMs,
      "a response",
    );
  }

  /** Resolve with the unread bytes once the server closes; rejects after `timeoutMs`. */
  async closed(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`server kept the connection open for ${timeoutMs} ms; got ${JSON.stringify(this.#data.toString("latin1"))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#data;
  }

  /** Bytes received and not yet read as a response. */
  get unread(): Buffer {
    return this.#data;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
