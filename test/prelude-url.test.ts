import { createRequire } from "node:module";
import test from "ava";
import { withPrelude } from "./helpers/prelude-harness.js";

// The same whatwg-url the prelude bundles, run in Node with the real tr46, as the reference (it ships no types).
const { URL: ReferenceURL } = createRequire(import.meta.url)("whatwg-url") as { URL: typeof URL };

test("URL: URL and URLSearchParams behave as whatwg-url's", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(() => {
      const url = new URL("../x?a=1&b=2#h", "https://user:pw@Example.com:8080/p/q");
      url.searchParams.append("c", "3 4");
      const params = new URLSearchParams([["z", "1"], ["a", "2"]]);
      params.sort();
      return [url.href, url.origin, url.host, url.username, String(url), JSON.stringify({ url }), params.toString(),
        URL.canParse("nope"), URL.canParse("/p", "https://a.example"), url instanceof URL, url.searchParams instanceof URLSearchParams];
    })()`);
    t.deepEqual(result, [
      "https://user:pw@example.com:8080/x?a=1&b=2&c=3+4#h",
      "https://example.com:8080",
      "example.com:8080",
      "user",
      "https://user:pw@example.com:8080/x?a=1&b=2&c=3+4#h",
      '{"url":"https://user:pw@example.com:8080/x?a=1&b=2&c=3+4#h"}',
      "a=2&z=1",
      false,
      true,
      true,
      true,
    ]);
  });
});

test("URL: invalid URLs throw TypeError", async (t) => {
  await withPrelude({}, async (harness) => {
    t.is(await harness.evaluate(`(() => { try { new URL("no scheme"); return "parsed"; } catch (error) { return error.constructor.name; } })()`), "TypeError");
  });
});

test("URL: whatwg-url loads on first use, and a tenant may replace the globals", async (t) => {
  await withPrelude({}, async (harness) => {
    const result = await harness.evaluate(`(() => {
      const before = typeof Object.getOwnPropertyDescriptor(globalThis, "URL").get;
      const href = new URL("https://a.example").href;
      const after = Object.getOwnPropertyDescriptor(globalThis, "URL");
      URLSearchParams = function Polyfill() {};
      return [before, href, typeof after.get, typeof after.value, after.enumerable, URLSearchParams.name];
    })()`);
    t.deepEqual(result, ["function", "https://a.example/", "undefined", "function", false, "Polyfill"]);
  });
});

test("URL: non-ASCII hosts go through tr46 (IDNA)", async (t) => {
  await withPrelude({}, async (harness) => {
    t.deepEqual(await harness.evaluate(`[new URL("https://Bücher.example/").host, new URL("https://xn--bcher-kva.example/").host, new URL("https://ＥＸＡＭＰＬＥ.com/").host]`), [
      "xn--bcher-kva.example",
      "xn--bcher-kva.example",
      "example.com",
    ]);
  });
});

test("URL: the ASCII host fast path agrees with tr46 on tricky host names", async (t) => {
  const hosts = [
    "example.com", "EXAMPLE.COM", "a.b.c.", "a..b", ".", "..", "-", "-a-", "a-", "ab--cd", "xn--", "XN--abc", "a.xn--zz", "xn--bcher-kva",
    "1.2.3.4", "0x7f.1", "127.1", "999.1.1.1", "1.2.3.4.5", "0", "09", "0x", "a.0x10", "localhost", "a".repeat(64), `${"a".repeat(63)}.b`,
    "a.1", "foo.09", "x.0x1g", "1e3", "-.-", "a.-b.c",
  ];
  const reference = (host: string): string => {
    try {
      return new ReferenceURL(`http://${host}/`).href;
    } catch {
      return "failure";
    }
  };
  await withPrelude({}, async (harness) => {
    const inIsolate = await harness.evaluate<string[]>(`${JSON.stringify(hosts)}.map((host) => { try { return new URL("http://" + host + "/").href; } catch { return "failure"; } })`);
    t.deepEqual(inIsolate, hosts.map(reference));
  });
});
