/**
 * The operations microbenchmark (bench/README.md, "Web API operations"):
 * `GET /op/<name>?n=N` runs one Web API operation N times and answers with a
 * checksum of what it computed, so that no engine can drop the work and the
 * harness can see that both runtimes did the same thing. The same source
 * runs in edgehost and in workerd; the harness times the requests from
 * outside (workerd's clock does not advance during pure computation).
 *
 *   curl 'http://127.0.0.1:8787/op/url?n=1000'
 */
import wptCases from "../../test/fixtures/wpt-url/urltestdata.json";

interface WptCase {
  input: string;
  base: string | null;
}

/** The 869 WPT URL parser inputs, each with its base (or none). */
const URL_CASES: Array<[string, string | undefined]> = (wptCases as WptCase[]).map((c) => [c.input, c.base ?? undefined]);

/** About 1 KB of text: mostly ASCII with some two-, three- and four-byte UTF-8. */
const TEXT_SAMPLE = (() => {
  const line = "The quick brown fox jumps over the lazy dog; café, naïve, 東京, €5, 🦊. ";
  let text = "";
  while (text.length < 1000) text += line;
  return text;
})();
const TEXT_BYTES = new TextEncoder().encode(TEXT_SAMPLE);

const JSON_PAYLOAD = { id: 42, name: "widget", tags: ["a", "b", "c"], price: 9.99, stock: { warehouse: "east", count: 17 }, active: true };
const STREAM_CHUNK = new Uint8Array(1024).fill(97);
const HMAC_KEY_BYTES = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
const HMAC_DATA = new TextEncoder().encode("GET /api/items/42?fields=name,price 1700000000");

type Op = (n: number) => number | Promise<number>;

const OPS: Record<string, Op> = {
  /** `new URL(input, base)` over the WPT inputs in turn (a quarter of them are failures that throw). */
  url(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const [input, base] = URL_CASES[i % URL_CASES.length] as [string, string | undefined];
      try {
        sum += new URL(input, base).href.length;
      } catch {
        sum += 1;
      }
    }
    return sum;
  },

  /** A server's everyday URL: a new path and query each time, then the parts an app reads. */
  "url-common"(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const url = new URL(`https://api.example.com/v1/items/${i}?fields=name,price&page=${i % 7}`);
      sum += url.pathname.length + url.hostname.length + (url.searchParams.get("page")?.length ?? 0);
    }
    return sum;
  },

  "search-params"(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const params = new URLSearchParams("q=edge+host&page=2&sort=price%3Adesc&tag=a&tag=b&empty=");
      sum += (params.get("q")?.length ?? 0) + params.getAll("tag").length;
      params.append("next", "a b&c");
      params.set("page", "3");
      params.sort();
      sum += params.toString().length;
    }
    return sum;
  },

  headers(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const headers = new Headers({
        "content-type": "application/json",
        accept: "*/*",
        "user-agent": "bench/1.0",
        "x-request-id": "abc123",
        "cache-control": "no-cache",
      });
      headers.append("set-cookie", "a=1");
      headers.append("set-cookie", "b=2");
      headers.set("X-Custom", "value");
      headers.delete("cache-control");
      sum += (headers.get("Content-Type")?.length ?? 0) + (headers.has("accept") ? 1 : 0);
      for (const [name] of headers) sum += name.length;
    }
    return sum;
  },

  "text-encode"(n) {
    const encoder = new TextEncoder();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += encoder.encode(TEXT_SAMPLE).byteLength;
    return sum;
  },

  "text-decode"(n) {
    const decoder = new TextDecoder();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += decoder.decode(TEXT_BYTES).length;
    return sum;
  },

  /** A JSON API hop: a POST Request with a JSON body, read back, answered with Response.json, read back. */
  async "json-roundtrip"(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const request = new Request("https://api.example.com/items", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...JSON_PAYLOAD, id: i }),
      });
      const data = (await request.json()) as { id: number };
      const response = Response.json({ received: data, ok: true }, { status: 201 });
      sum += ((await response.json()) as { received: { id: number } }).received.id + response.status;
    }
    return sum;
  },

  /** HMAC-SHA-256 of a short message (the key is imported once per request). */
  async "hmac-sign"(n) {
    const key = await crypto.subtle.importKey("raw", HMAC_KEY_BYTES, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (await crypto.subtle.sign("HMAC", key, HMAC_DATA)).byteLength;
    return sum;
  },

  /** Four 1 KB chunks through a TransformStream, read to the end. */
  async "stream-pipe"(n) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const source = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let chunk = 0; chunk < 4; chunk++) controller.enqueue(STREAM_CHUNK);
          controller.close();
        },
      });
      const piped = source.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            controller.enqueue(chunk);
          },
        }),
      );
      const reader = piped.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        sum += value.byteLength;
      }
    }
    return sum;
  },
};

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const match = /^\/op\/([a-z-]+)$/.exec(url.pathname);
    const name = match?.[1];
    const op = name !== undefined && Object.hasOwn(OPS, name) ? OPS[name] : undefined;
    // The index: every op, and the cycle of the one that walks a fixed list (the harness runs whole cycles).
    if (op === undefined) return Response.json({ ops: Object.keys(OPS), cycles: { url: URL_CASES.length } }, { status: match === null ? 200 : 404 });
    const n = Number(url.searchParams.get("n") ?? "1");
    if (!Number.isInteger(n) || n < 0) return new Response("n must be a non-negative integer\n", { status: 400 });
    const checksum = await op(n);
    return Response.json({ op: name, n, checksum });
  },
};
