import test from "ava";
import { parseHostPattern, parseRoute, routeKey } from "../runtime/config/index.js";
import { canonicalHost } from "../runtime/host-header.js";

test("config routes: host, wildcard host, any host, with and without a path prefix", (t) => {
  t.deepEqual(parseRoute("shop.example.com"), { pattern: "shop.example.com", match: "exact", host: "shop.example.com", pathPrefix: "/" });
  t.deepEqual(parseRoute("*.Shop.Example.com"), { pattern: "*.Shop.Example.com", match: "wildcard", host: "shop.example.com", pathPrefix: "/" });
  t.deepEqual(parseRoute("example.com/api/"), { pattern: "example.com/api/", match: "exact", host: "example.com", pathPrefix: "/api" });
  t.deepEqual(parseRoute("example.com/api/v1"), { pattern: "example.com/api/v1", match: "exact", host: "example.com", pathPrefix: "/api/v1" });
  t.deepEqual(parseRoute("example.com/"), { pattern: "example.com/", match: "exact", host: "example.com", pathPrefix: "/" });
  t.deepEqual(parseRoute("*"), { pattern: "*", match: "any", host: "", pathPrefix: "/" });
  t.deepEqual(parseRoute("*/static"), { pattern: "*/static", match: "any", host: "", pathPrefix: "/static" });
  t.deepEqual(parseRoute("localhost"), { pattern: "localhost", match: "exact", host: "localhost", pathPrefix: "/" });
  t.deepEqual(parseRoute("127.0.0.1/x"), { pattern: "127.0.0.1/x", match: "exact", host: "127.0.0.1", pathPrefix: "/x" });
  t.deepEqual(parseRoute("xn--bcher-kva.de"), { pattern: "xn--bcher-kva.de", match: "exact", host: "xn--bcher-kva.de", pathPrefix: "/" });
  t.deepEqual(parseRoute("a.com/@user:1/~x"), { pattern: "a.com/@user:1/~x", match: "exact", host: "a.com", pathPrefix: "/@user:1/~x" });
});

test("config routes: refused with a reason", (t) => {
  t.is(parseRoute("https://a.com"), "a route has no scheme: write host or host/path");
  t.is(parseRoute("a.com:80"), "a pattern has no port (ports are not matched) and no IPv6 literal");
  t.is(parseRoute("*.*.a.com"), "'*' may only stand alone or open the host as '*.'");
  t.is(parseRoute("*."), "the host is empty");
  t.is(parseRoute("/api"), "the host is empty");
  t.is(parseRoute("a_b.com"), "the host is not a valid DNS name (labels of letters, digits and inner hyphens)");
  t.is(parseRoute(`${"a".repeat(64)}.com`), "the host is not a valid DNS name (labels of letters, digits and inner hyphens)");
  t.is(parseRoute("xn--zz.com"), "no request's Host can match it (URL parsing reads it as a number or changes it)");
  t.is(parseRoute("0x7f.1"), "no request's Host can match it (URL parsing reads it as a number or changes it)");
  t.is(parseRoute("a.com/./x"), "the path has '.' or '..' segments");
  t.is(parseRoute("a.com/x#y"), "the path has characters a route cannot match (query, fragment, percent-encoding, spaces or non-ASCII)");
  t.is(parseRoute(`a.com/${"x".repeat(2048)}`), "longer than 2048 characters");
});

test("config routes: the same route written differently has one key; overlapping routes do not", (t) => {
  const key = (pattern: string): string => {
    const route = parseRoute(pattern);
    if (typeof route === "string") throw new Error(route);
    return routeKey(route);
  };
  t.is(key("Example.com/api/"), key("example.com/api"));
  t.is(key("*.A.com"), key("*.a.com/"));
  t.not(key("a.com"), key("*.a.com"));
  t.not(key("a.com"), key("a.com/api"));
  t.not(key("*"), key("*/api"));
});

test("config routes: outbound host patterns", (t) => {
  t.deepEqual(parseHostPattern("api.stripe.com"), { pattern: "api.stripe.com", match: "exact", host: "api.stripe.com" });
  t.deepEqual(parseHostPattern("*.Example.net"), { pattern: "*.Example.net", match: "wildcard", host: "example.net" });
  t.is(parseHostPattern("*"), "'*' alone is not allowed (leave out allow to allow any public host)");
  t.is(parseHostPattern("api.stripe.com/v1"), "a host pattern has no path");
  t.is(parseHostPattern("http://x"), "a host pattern has no scheme");
});

test("config routes: the plain-name fast path agrees with the full check (generated hosts)", (t) => {
  // Reference: DNS labels, at most 253 characters, and a Host header would canonicalise to exactly this name.
  const reference = (host: string): boolean =>
    host.length <= 253 && host.split(".").every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) && canonicalHost(host) === host;
  let seed = 42;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  const pieces = ["a", "z", "0", "9", "-", ".", "x", "n", "xn--", "0x", "1", "ab", "--", "0x7f"];
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let host = "";
    const length = 1 + random(8);
    for (let j = 0; j < length; j++) host += pieces[random(pieces.length)] ?? "";
    const verdict = typeof parseRoute(host) !== "string";
    if (verdict) accepted++;
    if (verdict !== reference(host)) t.fail(`${JSON.stringify(host)}: parseRoute ${verdict}, reference ${reference(host)}`);
  }
  t.true(accepted > 1000);
});
