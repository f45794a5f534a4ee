import { gunzipSync, gzipSync } from "node:zlib";
import test from "ava";
import { appWithFetch, sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("compression streams: round trip through all three formats, and each output is what zlib reads", async (t) => {
  const result = await run(`(async () => {
    const input = new TextEncoder().encode("edgehost ".repeat(5000) + "é");
    const collect = async (stream) => new Uint8Array(await new Response(stream).arrayBuffer());
    const out = {};
    for (const format of ["gzip", "deflate", "deflate-raw"]) {
      const compressed = await collect(new Response(input).body.pipeThrough(new CompressionStream(format)));
      const restored = await collect(new Response(compressed).body.pipeThrough(new DecompressionStream(format)));
      out[format] = { smaller: compressed.length < input.length / 20, same: restored.length === input.length && restored.every((b, i) => b === input[i]), head: [...compressed.slice(0, 2)] };
    }
    return out;
  })()`);
  t.deepEqual(result, {
    gzip: { smaller: true, same: true, head: [0x1f, 0x8b] },
    deflate: { smaller: true, same: true, head: [0x78, 0x9c] },
    "deflate-raw": { smaller: true, same: true, head: (result as Record<string, { head: number[] }>)["deflate-raw"]?.head ?? [] },
  });
});

test("compression streams: gzip from the isolate is valid for zlib, and zlib's gzip decompresses in the isolate", async (t) => {
  const fromZlib = gzipSync(Buffer.from("made by node zlib ".repeat(100)));
  const result = await run<{ ours: number[]; theirs: string }>(`(async () => {
    const ours = new Uint8Array(await new Response(new Response("made in the isolate").body.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const theirs = await new Response(new Response(new Uint8Array(${JSON.stringify([...fromZlib])})).body.pipeThrough(new DecompressionStream("gzip"))).text();
    return { ours: [...ours], theirs };
  })()`);
  t.is(gunzipSync(Buffer.from(result.ours)).toString(), "made in the isolate");
  t.is(result.theirs, "made by node zlib ".repeat(100));
});

test("compression streams: unsupported formats, non-BufferSource chunks, corrupt and truncated input are TypeErrors", async (t) => {
  const result = await run(`(async () => {
    const names = [];
    try { new CompressionStream("brotli"); } catch (e) { names.push(e.name); }
    try { new DecompressionStream("GZIP"); } catch (e) { names.push(e.name); }
    const decode = async (format, chunks) => {
      try { await new Response(ReadableStream.from(chunks).pipeThrough(new DecompressionStream(format))).arrayBuffer(); return "ok"; }
      catch (e) { return e.name; }
    };
    const good = new Uint8Array(await new Response(new Response("x".repeat(1000)).body.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    names.push(await decode("gzip", ["text"]));
    names.push(await decode("gzip", [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]));
    names.push(await decode("gzip", [good.slice(0, good.length - 12)]));
    names.push(await decode("deflate", [new Uint8Array([0x78, 0x9c, 0xff, 0xff])]));
    names.push(await decode("gzip", [good.slice(0, 5), good.slice(5)]));
    return names;
  })()`);
  t.deepEqual(result, ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "TypeError", "ok"]);
});

test("compression streams: a gzip bomb inflates in bounded chunks only as fast as it is read", async (t) => {
  // 512 MiB of zeros, ~500 KB compressed: inflated whole it would be four times the isolate's memory limit.
  const bomb = gzipSync(Buffer.alloc(512 * 1024 * 1024), { level: 9 });
  const app = appWithFetch(`async (request) => {
    const reader = request.body.pipeThrough(new DecompressionStream("gzip")).getReader();
    let total = 0, largest = 0, chunks = 0;
    while (total < 64 * 1024 * 1024) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength; largest = Math.max(largest, value.byteLength); chunks++;
    }
    await reader.cancel();
    return Response.json({ total, largest, chunks });
  }`);
  await withPrelude({ appSource: app, timeoutMs: 20000 }, async (harness) => {
    const outcome = await harness.request("POST", "https://app.example/", [], bomb.buffer.slice(bomb.byteOffset, bomb.byteOffset + bomb.byteLength));
    t.is(outcome.kind, "respond");
    const stats = JSON.parse(outcome.kind === "respond" && typeof outcome.body === "string" ? outcome.body : "{}") as { total: number; largest: number; chunks: number };
    t.true(stats.total >= 64 * 1024 * 1024 && stats.total < 80 * 1024 * 1024, `read ${stats.total} bytes`);
    t.true(stats.largest <= 9 * 1024 * 1024, `largest chunk ${stats.largest} bytes`);
    const heap = harness.isolate.getHeapStatisticsSync();
    t.true(heap.used_heap_size < 64 * 1024 * 1024, `heap ${heap.used_heap_size}`);
  });
});
