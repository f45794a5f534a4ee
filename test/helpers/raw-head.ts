import { connect } from "node:net";

/** A response's head as the wire carried it. */
export interface RawHead {
  /** e.g. "HTTP/1.1 418 I'm a teapot". */
  readonly statusLine: string;
  /** Names lower-cased, in wire order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Bytes after the head before the next response (none for HEAD). */
  readonly bodyBytes: number;
}

/** Marks the end of an exchange: a path no test app serves specially. */
const SENTINEL_PATH = "/__raw_head_sentinel__";

/**
 * Send one request; once its head has arrived, send a GET with
 * `Connection: close` on the same connection, and read until the server
 * closes. The first response is everything before the second status line:
 * a HEAD answer carries a Content-Length without a body (a framing client
 * would wait for it), and uWS keeps the connection open after a HEAD even
 * when the request asks to close it (after one with a Content-Length it
 * closes the connection when the next request arrives instead).
 */
export function rawExchange(port: number, method: string, path: string, timeoutMs = 5000): Promise<RawHead> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const host = `Host: 127.0.0.1:${port}\r\n`;
    let data = "";
    let sentSentinel = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(data)}`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(`${method} ${path} HTTP/1.1\r\n${host}\r\n`));
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
      if (!sentSentinel && data.includes("\r\n\r\n")) {
        sentSentinel = true;
        socket.write(`GET ${SENTINEL_PATH} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const headEnd = data.indexOf("\r\n\r\n");
      if (headEnd < 0) {
        reject(new Error(`no response head: ${JSON.stringify(data)}`));
        return;
      }
      // After a HEAD answered with a Content-Length the server may close instead of answering the sentinel.
      const found = data.indexOf("HTTP/1.1 ", headEnd);
      const next = found < 0 ? data.length : found;
      const [statusLine = "", ...lines] = data.slice(0, headEnd).split("\r\n");
      const headers = lines.map((line): [string, string] => {
        const colon = line.indexOf(":");
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
      });
      resolve({ statusLine, headers, bodyBytes: Buffer.byteLength(data.slice(headEnd + 4, next), "latin1") });
    });
  });
}

/** Values of header `name` (lower-case). */
export function headValues(head: RawHead, name: string): string[] {
  return head.headers.filter(([key]) => key === name).map(([, value]) => value);
}
