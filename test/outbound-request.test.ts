import test from "ava";
import { inboundHopCount, withLoopMarker } from "../sandbox/cdn-loop.js";
import { MAX_HEADER_CHARS, MAX_HEADER_COUNT, MAX_URL_CHARS, validateOutboundRequest } from "../sandbox/outbound-request.js";

const LIMIT = 1000;

function check(overrides: { method?: unknown; url?: unknown; headers?: unknown; body?: unknown; redirect?: unknown } = {}): unknown {
  const input = { method: "POST", url: "https://a.example/", headers: [], body: null, redirect: "follow", ...overrides };
  return validateOutboundRequest(input.method, input.url, input.headers, input.body, input.redirect, LIMIT);
}

test("outbound request: a well-formed request passes with lower-case names and framing headers dropped", (t) => {
  const body = new ArrayBuffer(3);
  t.deepEqual(
    check({
      headers: ["X-Token", " t ", "Content-Length", "5000000", "Transfer-Encoding", "chunked", "Connection", "close", "CDN-Loop", "other"],
      body,
      redirect: "manual",
    }),
    { method: "POST", url: "https://a.example/", headers: [["x-token", "t"], ["cdn-loop", "other"]], body, redirect: "manual" },
  );
});

test("outbound request: the body size is the host's own byteLength, bounded by the subrequest body limit", (t) => {
  t.is(check({ body: new ArrayBuffer(LIMIT + 1) }), `fetch: request body exceeds the subrequest body limit of ${LIMIT} bytes`);
  t.like(check({ body: new ArrayBuffer(LIMIT) }), { method: "POST" });
  t.is(check({ body: new Uint8Array(1) }), "fetch: invalid body");
  t.is(check({ body: { byteLength: 1 } }), "fetch: invalid body");
});

test("outbound request: method, URL, redirect mode and headers of the wrong type or shape are refused", (t) => {
  t.is(check({ method: "GET /x" }), "fetch: invalid method");
  t.is(check({ method: 1 }), "fetch: invalid method");
  t.is(check({ method: "connect" }), "fetch: method connect is forbidden");
  t.is(check({ url: 5 }), "fetch: invalid URL");
  t.is(check({ url: `https://a.example/${"x".repeat(MAX_URL_CHARS)}` }), `fetch: URL longer than ${MAX_URL_CHARS} characters`);
  t.is(check({ redirect: "sometimes" }), "fetch: invalid redirect mode");
  t.is(check({ headers: "x-a: 1" }), "fetch: invalid headers");
  t.is(check({ headers: ["x-a"] }), "fetch: invalid headers");
  t.is(check({ headers: ["x-a", 1] }), "fetch: invalid headers");
  t.is(check({ headers: ["bad name", "1"] }), "fetch: invalid header name");
  t.is(check({ headers: ["x-a", "1\r\nx-b: 2"] }), "fetch: invalid value for header x-a");
  t.is(check({ headers: ["x-a", "a\0b"] }), "fetch: invalid value for header x-a");
  t.is(check({ headers: Array.from({ length: (MAX_HEADER_COUNT + 1) * 2 }, (_, i) => (i % 2 === 0 ? `x-${i}` : "v")) }), `fetch: more than ${MAX_HEADER_COUNT} headers`);
  t.is(check({ headers: ["x-a", "v".repeat(MAX_HEADER_CHARS)] }), `fetch: headers larger than ${MAX_HEADER_CHARS} characters`);
});

test("cdn-loop: the inbound hop count is the most of edgehost entries and their hops parameters", (t) => {
  t.is(inboundHopCount(["host", "a.example"]), 0);
  t.is(inboundHopCount(["cdn-loop", "edgehost; hops=3"]), 3);
  t.is(inboundHopCount(["cdn-loop", "cloudflare, edgehost; hops=2, edgehost; hops=5"]), 5);
  t.is(inboundHopCount(["cdn-loop", "edgehost, EdgeHost", "cdn-loop", "edgehost;foo=bar"]), 3);
  t.is(inboundHopCount(["cdn-loop", "other; hops=9"]), 0);
});

test("cdn-loop: the host's entry follows the app's own CDN-Loop values in one header", (t) => {
  t.deepEqual(withLoopMarker([["x-a", "1"]], 0), [["x-a", "1"], ["cdn-loop", "edgehost; hops=1"]]);
  t.deepEqual(withLoopMarker([["cdn-loop", "cdn-a"], ["x-a", "1"], ["cdn-loop", "cdn-b"]], 4), [["x-a", "1"], ["cdn-loop", "cdn-a, cdn-b, edgehost; hops=5"]]);
});
