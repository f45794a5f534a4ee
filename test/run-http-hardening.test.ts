import test from "ava";
import { RawConnection, type RawResponse } from "./helpers/raw-http.js";
import { withApp } from "./helpers/with-app.js";

// Issue 5, items 8 and 9: the Host header and malformed request heads.
const echoUrlApp = `
export default {
  async fetch(request: Request) {
    const url = new URL(request.url);
    return Response.json({ url: request.url, host: url.host, pathname: url.pathname, bytes: (await request.arrayBuffer()).byteLength });
  },
};
`;

/** Send `head` on a fresh connection; return the one response and check the server closed the connection after it. */
async function refusedWith(port: number, head: string): Promise<{ response: RawResponse; body: { error: string; requestId: string } }> {
  const connection = new RawConnection(port);
  try {
    await connection.send(head);
    const response = await connection.nextResponse();
    const rest = await connection.closed(2000);
    if (rest.length !== 0) throw new Error(`bytes after the refusal: ${JSON.stringify(rest.toString("latin1"))}`);
    return { response, body: JSON.parse(response.body.toString()) as { error: string; requestId: string } };
  } finally {
    connection.destroy();
  }
}

async function accepted(port: number, head: string): Promise<{ url: string; host: string; pathname: string; bytes: number }> {
  const connection = new RawConnection(port);
  try {
    await connection.send(head);
    const response = await connection.nextResponse();
    if (response.status !== 200) throw new Error(`status ${response.status}: ${response.body.toString()}`);
    return JSON.parse(response.body.toString()) as { url: string; host: string; pathname: string; bytes: number };
  } finally {
    connection.destroy();
  }
}

const UUID = /^[0-9a-f-]{36}$/;

test("host header: an invalid Host is 400 bad_host and the connection is closed", async (t) => {
  await withApp(t, echoUrlApp, [], async (server) => {
    for (const host of ["victim.example/admin?x=", "[", "a b", "0x7f.1", "a@b", "host:99999"]) {
      const { response, body } = await refusedWith(server.port, `GET /public HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      t.is(response.status, 400, host);
      t.is(body.error, "bad_host", host);
      t.regex(body.requestId, UUID);
    }
    const twice = await refusedWith(server.port, "GET /public HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n");
    t.is(twice.response.status, 400);
    t.is(twice.body.error, "bad_host");
  });
});

test("host header: request.url parses and carries the routed host and path", async (t) => {
  await withApp(t, echoUrlApp, [], async (server) => {
    t.like(await accepted(server.port, "GET /public?q=1 HTTP/1.1\r\nHost: EXAMPLE.com:0080\r\n\r\n"), {
      url: "http://example.com/public?q=1",
      host: "example.com",
      pathname: "/public",
    });
    t.like(await accepted(server.port, "GET //x/y HTTP/1.1\r\nHost: [::1]:8787\r\n\r\n"), { url: "http://[::1]:8787//x/y", pathname: "//x/y" });
    for (const target of ["/a#b", "/a\\b", "/caf\u00e9"]) {
      const { response, body } = await refusedWith(server.port, `GET ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`);
      t.is(response.status, 400, target);
      t.is(body.error, "bad_request_target", target);
    }
  });
});

test("malformed requests: two Content-Lengths are 400, headers past 32 KiB are 431, each closes the connection", async (t) => {
  await withApp(t, echoUrlApp, [], async (server) => {
    const twoLengths = await refusedWith(server.port, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde");
    t.is(twoLengths.response.status, 400);
    t.is(twoLengths.body.error, "bad_content_length");
    const big = await refusedWith(server.port, `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(33 * 1024)}\r\n\r\n`);
    t.is(big.response.status, 431);
    t.is(big.body.error, "headers_too_large");
    // Just under the limit is served.
    t.like(await accepted(server.port, `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(31 * 1024)}\r\n\r\n`), { pathname: "/x" });
  });
});

// Heads uWS's native parser refuses before our handler runs (runtime/README.md).
// It sends nothing; what we guarantee is that the connection does not stay
// open past uWS's idle timeout (10 s, checked on a 4 s tick).
const NATIVE_SILENT_CLOSE_MS = 16_000;
const nativeRefusals: Record<string, string> = {
  "no target": "GET HTTP/1.1\r\nHost: a\r\n\r\n",
  "no version": "GET /x\r\nHost: a\r\n\r\n",
  "extra token": "GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n",
  "space in a header name": "GET /x HTTP/1.1\r\nHost: a\r\nBad Name: v\r\n\r\n",
  "NUL in a header name": "GET /x HTTP/1.1\r\nHost: a\r\nBad\0Name: v\r\n\r\n",
  "space before the colon": "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "no Host": "GET /x HTTP/1.1\r\n\r\n",
  "absolute-form": "GET http://b.example/y HTTP/1.1\r\nHost: a\r\n\r\n",
  "asterisk-form": "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
};
const nativeResets: Record<string, string> = {
  "junk chunk size": "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
  "Transfer-Encoding with Content-Length": "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
  "lower-case method": "get /x HTTP/1.1\r\nHost: a\r\n\r\n",
  "200 KiB header": `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(200 * 1024)}\r\n\r\n`,
};

test("malformed requests the native parser refuses: never answered as a request, closed within the idle timeout or at once", async (t) => {
  await withApp(t, echoUrlApp, [], async (server) => {
    const silent = Object.entries(nativeRefusals).map(async ([name, head]) => {
      const connection = new RawConnection(server.port);
      await connection.send(head);
      const rest = await connection.closed(NATIVE_SILENT_CLOSE_MS);
      t.is(rest.length, 0, name);
    });
    const reset = Object.entries(nativeResets).map(async ([name, head]) => {
      const connection = new RawConnection(server.port);
      await connection.send(head);
      const rest = await connection.closed(1000);
      t.is(rest.length, 0, name);
    });
    await Promise.all([...silent, ...reset]);
    t.notRegex(server.output(), /error/);
  });
});
