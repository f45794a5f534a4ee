import test from "ava";
import { createRequire } from "node:module";
import { interpretHostAnswer, isHostParseCandidate, type UrlRecord } from "../sandbox/prelude/url-record.js";
import { parseUrlOrRefusal } from "../sandbox/url-parser.js";
import { readWptUrlCases } from "./helpers/wpt-url-data.js";

// whatwg-url's own parser is the reference the host's parser (ada) must agree
// with wherever the prelude takes its answer.
const require = createRequire(import.meta.url);
const usm = require("whatwg-url/lib/url-state-machine") as {
  basicURLParse(input: string, options?: { baseURL?: unknown }): UrlRecord | null;
  serializeURL(record: UrlRecord): string;
};

type Outcome = UrlRecord | null | "declined";

/** What the prelude would take from the host for `input` against `base`, as url-host-parse.ts decides it (without the cache). */
function viaHost(input: string, base: string | null): Outcome {
  const baseRecord = base === null ? null : usm.basicURLParse(base);
  if (base !== null && baseRecord === null) return null;
  const baseHref = baseRecord === null ? null : usm.serializeURL(baseRecord);
  if (!isHostParseCandidate(input, baseHref)) return "declined";
  const answer = interpretHostAnswer(input, parseUrlOrRefusal(input, baseHref), (record) => usm.serializeURL(record));
  return answer === undefined ? "declined" : answer;
}

function viaWhatwgUrl(input: string, base: string | null): UrlRecord | null {
  const baseRecord = base === null ? null : usm.basicURLParse(base);
  if (base !== null && baseRecord === null) return null;
  return usm.basicURLParse(input, { baseURL: baseRecord });
}

/** Pairs where the host answered; each must equal whatwg-url's record exactly (types included: IPv4 numbers, IPv6 pieces, opaque paths). */
function mismatches(pairs: Iterable<[string, string | null]>): { answered: number; declined: number; wrong: string[] } {
  let answered = 0;
  let declined = 0;
  const wrong: string[] = [];
  for (const [input, base] of pairs) {
    const host = viaHost(input, base);
    if (host === "declined") {
      declined++;
      continue;
    }
    answered++;
    const reference = viaWhatwgUrl(input, base);
    if (JSON.stringify(host) !== JSON.stringify(reference)) wrong.push(`${JSON.stringify(input)} against ${JSON.stringify(base)}: ${JSON.stringify(host)} vs ${JSON.stringify(reference)}`);
  }
  return { answered, declined, wrong };
}

const WPT_PAIRS: Array<[string, string | null]> = readWptUrlCases()
  .filter((c): c is { input: string; base: string | null } => typeof c === "object" && c !== null && "input" in c)
  .map((c) => [c.input, c.base]);

test("url host parse: agrees with whatwg-url on every WPT input it answers", (t) => {
  const { answered, declined, wrong } = mismatches(WPT_PAIRS);
  t.log(`host answered ${answered} of ${WPT_PAIRS.length} WPT cases (${declined} left to whatwg-url)`);
  t.deepEqual(wrong, []);
  t.true(answered > 650);
});

test("url host parse: agrees with whatwg-url on WPT inputs against other bases", (t) => {
  const bases = ["http://example.org/foo/bar", "https://user:pw@[::1]:8080/a/b/?q#f", "file:///C:/dir/file", "sc://host/a/b", "sc:opaque", "about:blank", "http://1.2.3.4/x"];
  const pairs: Array<[string, string | null]> = [];
  for (const [input] of WPT_PAIRS) for (const base of bases) pairs.push([input, base]);
  const { answered, wrong } = mismatches(pairs);
  t.log(`host answered ${answered} of ${pairs.length} pairs`);
  t.deepEqual(wrong.slice(0, 20), []);
});

test("url host parse: agrees with whatwg-url on a generated corpus of hosts, ports, paths and tails", (t) => {
  const schemes = ["http", "https", "ws", "file", "ftp", "sc", "HTTP", "blob", "javascript", "mailto"];
  const hosts = ["example.com", "EXAMPLE.com", "127.0.0.1", "127.1", "0x7f.1", "1.2.3.256", "[::1]", "[1:0:0:0:0:0:0:1]", "[::ffff:1.2.3.4]", "[0:0::0:1]", "a..b", "", "%41.com", "a%2Eb", "xn--nxasmq6b.com", "bücher.de", "ß.de", "a b", "user@h", "u:p@h", "h:0", "h:080"];
  const paths = ["", "/", "/a/./b/../c", "/%2e%2E/x", "/a b", "/é", "/'\"<>`{}", "//x", "\\\\a\\b", "/C:/x", "/a%zz", "?q=1 2&'", "#f g", "/p?q#h#i"];
  const pairs: Array<[string, string | null]> = [];
  for (const scheme of schemes) {
    for (const host of hosts) {
      for (const path of paths) {
        pairs.push([`${scheme}://${host}${path}`, null]);
        pairs.push([`${scheme}:${host}${path}`, null]);
      }
    }
  }
  for (const path of paths) for (const base of ["http://h/a/b", "file:///x/y", "sc://h/a", "sc:x"]) pairs.push([path, base], [`..${path}`, base]);
  // Whitespace and controls the parser strips or removes, credentials, ports, backslashes and non-ASCII outside the host.
  const noisy = ["  http://h/ ", "\thttp://h\n/a\r", "\u0000http://h/\u001f", "http://u%40:p%3A@h/", "http://:@h/", "http://u@h:65535/", "http://h:65536/",
    "https://h:443/", "ws://h:80", "http:\\\\h\\a\\b", "http://h/é?é#é", "http://h/?a=é&b=%zz", "http://h/#\u0000 x", "HTTP://H/A", "http://h/%7e%7E",
    "http://H%4F.com/", "http://0300.0250.0001.0001/", "http://4294967295/", "http://[0::0]/", "https://[::FFFF:c000:280]/", "non-spec://[::1]:9/x", "sc://ho%20st/", "sc://@/"];
  for (const input of noisy) pairs.push([input, null], [input, "http://base/a/b"]);
  const { answered, wrong } = mismatches(pairs);
  t.log(`host answered ${answered} of ${pairs.length} generated pairs`);
  t.deepEqual(wrong.slice(0, 20), []);
  t.true(answered > 2000);
});

test("url host parse: leaves to whatwg-url what ada does differently, and confirms failures of non-ASCII input", (t) => {
  t.is(viaHost("http://h/^", null), "declined");
  t.is(viaHost("x^", "http://h/"), "declined");
  t.is(viaHost("non-special:opaque  ?hi", null), "declined");
  t.is(viaHost("http://bücher.de/", null), "declined");
  t.is(viaHost("http://\u{1F600}\u0000/", null), "declined");
  t.is(viaHost("http://[::1/", null), null);
  t.is(viaHost("x", "sc:opaque"), "declined");
  t.is(viaHost("file:u:p@h/%2e%2E/x", null), "declined");
  t.is(viaHost("http://h/a/../b", null) === "declined", false);
});
