import test from "ava";
import { createRequire } from "node:module";
import { fastParseUrl } from "../sandbox/prelude/url-fast-path.js";
import { readWptUrlCases } from "./helpers/wpt-url-data.js";

// whatwg-url's own parser is the reference the fast path must agree with.
const require = createRequire(import.meta.url);
const usm = require("whatwg-url/lib/url-state-machine") as {
  basicURLParse(input: string, options?: { baseURL?: unknown }): unknown;
};

function plain(record: unknown): unknown {
  return JSON.parse(JSON.stringify(record)) as unknown;
}

/** Inputs where the fast path answered; each must equal the full parser's record. */
function mismatches(inputs: Iterable<string>): { answered: number; wrong: string[] } {
  let answered = 0;
  const wrong: string[] = [];
  for (const input of inputs) {
    const fast = fastParseUrl(input);
    if (fast === undefined) continue;
    answered++;
    const full = usm.basicURLParse(input);
    if (JSON.stringify(plain(fast)) !== JSON.stringify(plain(full))) wrong.push(input);
  }
  return { answered, wrong };
}

test("url fast path: agrees with whatwg-url on every WPT input it answers", (t) => {
  const cases = readWptUrlCases();
  const inputs = cases.filter((c): c is { input: string } => typeof c === "object" && c !== null && "input" in c).map((c) => c.input);
  const { answered, wrong } = mismatches(inputs);
  t.log(`fast path answered ${answered} of ${inputs.length} WPT inputs`);
  t.deepEqual(wrong, []);
  t.true(answered > 20);
});

test("url fast path: agrees with whatwg-url on a generated corpus of near-misses", (t) => {
  const schemes = ["http", "https", "ws", "wss", "HTTP", "ftp", "file", "blob"];
  const hosts = ["example.com", "EXAMPLE.com", "127.0.0.1", "127.1", "0x7f.0.0.1", "1.2.3.256", "01.2.3.4", "a..b", ".a", "a.", "xn--nxasmq6b.com", "1.2.3.4.", "-a-", "12345", "localhost", "a_b", "a.0x", "a.09", "255.255.255.255", "0.0.0.0", "1.2.3"];
  const ports = ["", ":", ":80", ":443", ":0", ":65535", ":65536", ":0080", ":99999", ":8787"];
  const paths = ["", "/", "/a", "/a/", "/./a", "/../a", "/a/%2e/", "/a/%2E%2E", "/a b", "/a%20b", "/'q'", "/~x", "/@:;=", "/.hidden", "/a/.", "/a..b", "/a\\b", "//a", "/a/b/c.txt", "/%zz"];
  const tails = ["", "?", "?a=b", "?a='b'", "?a b", "?a?b", "?%zz", "#", "#f", "#a#b", "#'x'", "#a`b", "?q#f", "?a=1&b=2#frag/ment?"];
  const inputs: string[] = [];
  for (const scheme of schemes) for (const host of hosts) for (const port of ports) for (const path of paths) inputs.push(`${scheme}://${host}${port}${path}`);
  for (const tail of tails) for (const path of paths) inputs.push(`http://example.com${path}${tail}`);
  const { answered, wrong } = mismatches(inputs);
  t.log(`fast path answered ${answered} of ${inputs.length} generated inputs`);
  t.deepEqual(wrong, []);
  t.true(answered > 1000);
});

test("url fast path: declines what it does not fully understand", (t) => {
  t.is(fastParseUrl("HTTP://example.com/"), undefined);
  t.is(fastParseUrl("http://user:pass@example.com/"), undefined);
  t.is(fastParseUrl("http://example.com/./a"), undefined);
  t.is(fastParseUrl("http://0x7f.1/"), undefined);
  t.is(fastParseUrl(" http://example.com/"), undefined);
  t.deepEqual(plain(fastParseUrl("http://127.0.0.1:8787/there?x=1")), {
    scheme: "http", username: "", password: "", host: 2130706433, port: 8787, path: ["there"], query: "x=1", fragment: null,
  });
});
