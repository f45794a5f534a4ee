import test from "ava";
import { createRequire } from "node:module";
import { fastParseUrlencoded, fastSerializeUrlencoded } from "../sandbox/prelude/url-fast-path.js";
import { appWithFetch, bodyText, withPrelude } from "./helpers/prelude-harness.js";

// whatwg-url's own parser is the reference the fast path must agree with.
const require = createRequire(import.meta.url);
const urlencoded = require("whatwg-url/lib/urlencoded") as {
  parseUrlencodedString(input: string): Array<[string, string]>;
  serializeUrlencoded(tuples: Array<[string, string]>): string;
};

test("urlencoded fast path: agrees with whatwg-url wherever it answers, and declines what needs decoding", (t) => {
  const pieces = [
    "", "a", "a=", "=b", "a=b", "a+b=c+d", "&", "&&", "a=b=c", "ü=1", "%41=1", "a%2", "x y", "é", "\u{1F600}", "=", "+", "a&b", "q=1;2", "\ud800",
    "%C3%A9", "%c3%a9=%e2%82%ac", "%E2%82", "%FF", "%25", "%2B+", "%zz", "%", "%ED%A0%80", "%F0%9F%98%80", "%C0%80", "%00", "%3D=%26", "é%C3",
  ];
  let answered = 0;
  const wrong: string[] = [];
  for (const a of pieces) {
    for (const b of pieces) {
      const input = `${a}&${b}${a}`;
      const fast = fastParseUrlencoded(input);
      if (fast === undefined) continue;
      answered++;
      if (JSON.stringify(fast) !== JSON.stringify(urlencoded.parseUrlencodedString(input))) wrong.push(input);
    }
  }
  t.deepEqual(wrong, []);
  t.true(answered > 500);
  t.deepEqual(fastParseUrlencoded("a=%41&%C3%A9=%2B+"), [["a", "A"], ["é", "+ "]]);
  t.is(fastParseUrlencoded("a=%4"), undefined);
  t.is(fastParseUrlencoded("a=%C3"), undefined);
  t.is(fastParseUrlencoded("\ud800=1"), undefined);
});

test("urlencoded fast path: serializes as whatwg-url does, and declines lone surrogates", (t) => {
  const pieces = ["", "a", "A-z_0.9*", " ", "+", "%", "&", "=", "!'()~", "é", "€", "\u{1F600}", "a b/c?d#e", "\u0000\u007f", "\\\"<>`{}|^[]", ":@$,;"];
  const wrong: string[] = [];
  for (const a of pieces) {
    for (const b of pieces) {
      const tuples: Array<[string, string]> = [[a, b], [b + a, a], ["k", b]];
      if (fastSerializeUrlencoded(tuples) !== urlencoded.serializeUrlencoded(tuples)) wrong.push(JSON.stringify(tuples));
    }
  }
  t.deepEqual(wrong, []);
  t.is(fastSerializeUrlencoded([]), "");
  t.is(fastSerializeUrlencoded([["a\ud800", "1"]]), undefined);
});

test("URLSearchParams: iteration is live, ordered and shaped as the spec says", async (t) => {
  const app = appWithFetch(`() => {
    const params = new URLSearchParams("a=1&b=2");
    const seen = [];
    for (const [key, value] of params) {
      seen.push(key + "=" + value);
      if (key === "a") params.append("c", "3");
    }
    const iterator = params.entries();
    const first = iterator.next();
    return Response.json({
      seen,
      keys: [...params.keys()],
      values: [...params.values()],
      fromUrl: Object.fromEntries(new URL("http://x.test/?q=a+b&n=1").searchParams),
      tag: Object.prototype.toString.call(iterator),
      first,
      firstProto: Object.getPrototypeOf(first) === Object.prototype,
      done: [...iterator].length,
      end: iterator.next(),
    });
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.deepEqual(JSON.parse(bodyText(outcome) ?? "null"), {
      seen: ["a=1", "b=2", "c=3"],
      keys: ["a", "b", "c"],
      values: ["1", "2", "3"],
      fromUrl: { q: "a b", n: "1" },
      tag: "[object URLSearchParams Iterator]",
      first: { value: ["a", "1"], done: false },
      firstProto: true,
      done: 2,
      end: { done: true },
    });
  });
});

test("URL: searchParams made on first use see the same list as one made with the URL, before and after the setters", async (t) => {
  const app = appWithFetch(`() => {
    const entries = (params) => [...params].map(([name, value]) => name + "=" + value);
    const late = new URL("http://x.test/?a=1");
    late.search = "?q=a#b c";
    const afterSearch = entries(late.searchParams);
    const early = new URL("http://x.test/?a=1");
    const params = early.searchParams;
    early.href = "http://y.test/?z=%20&y=+";
    const afterHref = entries(params);
    early.search = "";
    const afterClear = params.size;
    params.append("d", "4 5");
    const hrefLate = new URL("http://x.test/?a=1");
    hrefLate.href = "http://x.test/?b=%C3%A9";
    return Response.json({ afterSearch, lateSearch: late.search, afterHref, afterClear, search: early.search, same: early.searchParams === params, hrefLate: entries(hrefLate.searchParams), none: new URL("http://x.test/").searchParams.size });
  }`);
  await withPrelude({ appSource: app }, async (harness) => {
    const outcome = await harness.request("GET", "https://app.example/");
    t.deepEqual(JSON.parse(bodyText(outcome) ?? "null"), {
      afterSearch: ["q=a#b c"],
      lateSearch: "?q=a%23b%20c",
      afterHref: ["z= ", "y= "],
      afterClear: 0,
      search: "?d=4+5",
      same: true,
      hrefLate: ["b=é"],
      none: 0,
    });
  });
});
