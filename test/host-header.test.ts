import test from "ava";
import { canonicalHost } from "../runtime/host-header.js";
import { requestTarget } from "../runtime/request-target.js";

const accepted: ReadonlyArray<readonly [string, string]> = [
  ["example.com", "example.com"],
  ["EXAMPLE.com:8080", "example.com:8080"],
  ["example.com:80", "example.com"],
  ["example.com:0080", "example.com"],
  ["example.com:", "example.com"],
  ["localhost:65535", "localhost:65535"],
  ["127.0.0.1:3000", "127.0.0.1:3000"],
  ["a_b~c!$&'()*+,;=.test", "a_b~c!$&'()*+,;=.test"],
  ["example.com.", "example.com."],
  ["[::1]:8787", "[::1]:8787"],
  ["[0:0:0:0:0:0:0:1]", "[::1]"],
  ["[::FFFF:127.0.0.1]", "[::ffff:7f00:1]"],
  ["xn--nxasmq6b.example", "xn--nxasmq6b.example"],
];

const refused = [
  "",
  "victim.example/admin?x=",
  "[",
  "[::1",
  "[::1]x",
  "[v1.x]",
  "[fe80::1%25eth0]",
  "a b",
  "a@b",
  "user:pass@host",
  "host:port",
  "host:65536",
  "host:-1",
  "a%41",
  "a#b",
  "a\\b",
  "0x7f.1",
  "999",
  "1.2.3.4.5",
  "1.2.3.04",
  "1.2.3.4.",
  "h\u00e9.example",
  "xn--zz",
  "a".repeat(2000),
];

test("host header: valid authorities come out exactly as the WHATWG URL parser serialises them", (t) => {
  for (const [value, expected] of accepted) {
    t.is(canonicalHost(value), expected, value);
    t.is(new URL(`http://${value}/`).host, expected, `Node agrees on ${value}`);
  }
});

test("host header: anything that is not uri-host [\":\" port], or that the URL parser would turn into another host, is refused", (t) => {
  for (const value of refused) t.is(canonicalHost(value), undefined, JSON.stringify(value));
});

test("host header: every printable ASCII reg-name character either is refused or round-trips through URL unchanged", (t) => {
  for (let code = 0x21; code < 0x7f; code++) {
    const value = `a${String.fromCharCode(code)}b.example`;
    const host = canonicalHost(value);
    if (host !== undefined) t.is(new URL(`http://${host}/p`).host, host, value);
  }
});

test("request target: the URL parses, and its host and pathname are the routed ones", (t) => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ["/public", "", "/public"],
    ["//x/y", "a=1", "//x/y"],
    ["/a/../admin", "", "/admin"],
    ["/a/%2e%2E/admin", "", "/admin"],
    ["/{x}", "", "/%7Bx%7D"],
  ];
  for (const [path, query, pathname] of cases) {
    const target = requestTarget(path, query, "example.com:8080");
    t.truthy(target, path);
    if (target === undefined) continue;
    const url = new URL(target.url);
    t.is(target.pathname, pathname, path);
    t.is(url.pathname, target.pathname, path);
    t.is(url.host, "example.com:8080");
    t.is(url.search, query ? `?${query}` : "");
  }
  for (const path of ["*", "http://a/b", "/a#b", "/a\\b", "/\u00e9", "/a\u0001"]) t.is(requestTarget(path, "", "h"), undefined, path);
  t.is(requestTarget("/a", "q#frag", "h"), undefined);
});
