import test from "ava";
import { createRequire } from "node:module";
import { fastParseUrlencoded } from "../sandbox/prelude/url-fast-path.js";
import { appWithFetch, bodyText, withPrelude } from "./helpers/prelude-harness.js";

// whatwg-url's own parser is the reference the fast path must agree with.
const require = createRequire(import.meta.url);
const urlencoded = require("whatwg-url/lib/urlencoded") as { parseUrlencodedString(input: string): Array<[string, string]> };

test("urlencoded fast path: agrees with whatwg-url wherever it answers, and declines what needs decoding", (t) => {
  const pieces = ["", "a", "a=", "=b", "a=b", "a+b=c+d", "&", "&&", "a=b=c", "ü=1", "%41=1", "a%2", "x y", "é", "\u{1F600}", "=", "+", "a&b", "q=1;2", "\ud800"];
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
  t.true(answered > 100);
  t.is(fastParseUrlencoded("a=%41"), undefined);
  t.is(fastParseUrlencoded("é=1"), undefined);
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
