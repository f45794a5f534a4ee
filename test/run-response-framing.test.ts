import test from "ava";
import { headerValues, RawConnection } from "./helpers/raw-http.js";
import { withApp } from "./helpers/with-app.js";

// A tenant that defeats lower-casing inside the isolate and tries to frame
// the response itself, smuggling a second answer into its body (issue 5, item 5).
const smugglerApp = `
const injected = "0\\r\\n\\r\\nHTTP/1.1 200 OK\\r\\nContent-Length: 9\\r\\n\\r\\nINJECTED!";
String.prototype.toLowerCase = function () { return String(this); };
export default {
  async fetch(request: Request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/inject") return new Response(injected, { headers: { "Transfer-Encoding": "chunked" } });
    if (pathname === "/hop") {
      return new Response("hop", {
        headers: {
          "Content-Length": "1", "CONNECTION": "close", "Keep-Alive": "timeout=1", "Upgrade": "h2c",
          "Proxy-Connection": "close", "TE": "trailers", "Trailer": "X-T", "Date": "yesterday", "X-Kept": "yes",
        },
      });
    }
    return new Response("next");
  },
};
`;

test("response framing: a tenant's Transfer-Encoding is dropped even with toLowerCase patched; no second response is smuggled", async (t) => {
  await withApp(t, smugglerApp, [], async (server) => {
    const connection = new RawConnection(server.port);
    try {
      await connection.send("GET /inject HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const first = await connection.nextResponse();
      t.is(first.status, 200);
      t.deepEqual(headerValues(first, "transfer-encoding"), []);
      t.deepEqual(headerValues(first, "content-length"), [String(Buffer.byteLength(first.body))]);
      t.is(first.body.toString("latin1"), "0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nINJECTED!");
      t.is(connection.unread.length, 0, "nothing follows the first response");
      await connection.send("GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const second = await connection.nextResponse();
      t.is(second.status, 200);
      t.is(second.body.toString(), "next");
    } finally {
      connection.destroy();
    }
  });
});

test("response framing: hop-by-hop and framing headers from a tenant never reach the wire, in any case", async (t) => {
  await withApp(t, smugglerApp, [], async (server) => {
    const connection = new RawConnection(server.port);
    try {
      await connection.send("GET /hop HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const response = await connection.nextResponse();
      t.is(response.body.toString(), "hop");
      t.deepEqual(headerValues(response, "content-length"), ["3"]);
      for (const name of ["connection", "keep-alive", "upgrade", "proxy-connection", "te", "trailer", "transfer-encoding"]) {
        t.deepEqual(headerValues(response, name), [], name);
      }
      t.notRegex(response.head, /yesterday/);
      t.deepEqual(headerValues(response, "x-kept"), ["yes"]);
      // The connection stays usable: the tenant's "Connection: close" did not frame it.
      await connection.send("GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      t.is((await connection.nextResponse()).body.toString(), "next");
    } finally {
      connection.destroy();
    }
  });
});
