import { crc32, deflateRawSync, deflateSync, gunzipSync, gzipSync } from "node:zlib";
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

/** Bytes as an isolate-side Uint8Array literal. */
function literal(bytes: Uint8Array): string {
  return `new Uint8Array(${JSON.stringify([...bytes])})`;
}

/** What decoding `chunks` with a DecompressionStream(format) gives in the isolate: the text, or the error's name and message. */
async function decodeInIsolate(format: string, chunks: Uint8Array[]): Promise<string> {
  return run<string>(`(async () => {
    try {
      const stream = ReadableStream.from([${chunks.map(literal).join(", ")}]).pipeThrough(new DecompressionStream(${JSON.stringify(format)}));
      return "ok " + await new Response(stream).text();
    } catch (e) { return e.name + ": " + e.message; }
  })()`);
}

/** `bytes` with the byte at `index` (negative: from the end) XORed with 1. */
function flipped(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  const at = index < 0 ? copy.length + index : index;
  copy[at] = (copy[at] as number) ^ 1;
  return copy;
}

const TEXT = "checked by its trailer ".repeat(200);

test("compression streams: a gzip stream whose CRC-32 or ISIZE is wrong, or whose trailer is cut, is a TypeError", async (t) => {
  const good = gzipSync(Buffer.from(TEXT));
  t.is(await decodeInIsolate("gzip", [good]), `ok ${TEXT}`);
  t.is(await decodeInIsolate("gzip", [flipped(good, -8)]), "TypeError: DecompressionStream: incorrect data check");
  t.is(await decodeInIsolate("gzip", [flipped(good, -1)]), "TypeError: DecompressionStream: incorrect length check");
  for (const cut of [1, 4, 8]) {
    t.is(await decodeInIsolate("gzip", [good.subarray(0, good.length - cut)]), "TypeError: DecompressionStream: unexpected end of the compressed stream (truncated)", `cut ${cut}`);
  }
});

test("compression streams: a zlib stream whose Adler-32 is wrong or cut, and truncated DEFLATE data, are TypeErrors", async (t) => {
  const good = deflateSync(Buffer.from(TEXT));
  t.is(await decodeInIsolate("deflate", [good]), `ok ${TEXT}`);
  t.is(await decodeInIsolate("deflate", [flipped(good, -1)]), "TypeError: DecompressionStream: incorrect data check");
  t.is(await decodeInIsolate("deflate", [good.subarray(0, good.length - 2)]), "TypeError: DecompressionStream: unexpected end of the compressed stream (truncated)");
  const raw = deflateRawSync(Buffer.from(TEXT));
  t.is(await decodeInIsolate("deflate-raw", [raw]), `ok ${TEXT}`);
  t.regex(await decodeInIsolate("deflate-raw", [raw.subarray(0, raw.length - 3)]), /^TypeError: DecompressionStream: (unexpected EOF|unexpected end of the compressed stream \(truncated\))$/);
  t.regex(await decodeInIsolate("deflate", [good.subarray(0, 20)]), /^TypeError: DecompressionStream: (unexpected EOF|unexpected end of the compressed stream \(truncated\))$/);
});

test("compression streams: bytes after the end (a stray byte, a second gzip member) are a TypeError after the output", async (t) => {
  const cases: Array<[string, Buffer]> = [
    ["gzip", gzipSync(Buffer.from("a"))],
    ["deflate", deflateSync(Buffer.from("a"))],
    ["deflate-raw", deflateRawSync(Buffer.from("a"))],
  ];
  for (const [format, valid] of cases) {
    for (const chunks of [[Buffer.concat([valid, Buffer.of(0)])], [valid, Buffer.of(0)], [valid, valid], [Buffer.concat([valid, valid])]]) {
      t.is(await decodeInIsolate(format, chunks), "TypeError: DecompressionStream: trailing data after the end of the compressed stream", format);
    }
  }
  // As the WPT "extra input" cases: the output is read first, the next read rejects.
  const result = await run(`(async () => {
    const ds = new DecompressionStream("gzip");
    const reader = ds.readable.getReader();
    ds.writable.getWriter().write(${literal(Buffer.concat([gzipSync(Buffer.from("expected output")), Buffer.of(0)]))}).catch(() => {});
    const first = await reader.read();
    let second;
    try { await reader.read(); second = "no error"; } catch (e) { second = e.name; }
    return [new TextDecoder().decode(first.value), second];
  })()`);
  t.deepEqual(result, ["expected output", "TypeError"]);
});

test("compression streams: gzip headers with FEXTRA, FNAME, FCOMMENT and FHCRC are read and checked, one byte at a time too", async (t) => {
  const data = Buffer.from(TEXT);
  const extra = Buffer.from("ab");
  const head = Buffer.concat([
    Buffer.of(0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3),
    Buffer.of(extra.length, 0),
    extra,
    Buffer.from("name.txt\0"),
    Buffer.from("a comment\0"),
  ]);
  const headerCrc = Buffer.alloc(2);
  headerCrc.writeUInt16LE(crc32(head) & 0xffff);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  const whole = Buffer.concat([head, headerCrc, deflateRawSync(data), trailer]);
  t.is(await decodeInIsolate("gzip", [whole]), `ok ${TEXT}`);
  const bytes = [...whole].map((byte) => Buffer.of(byte));
  t.is(await decodeInIsolate("gzip", bytes), `ok ${TEXT}`);
  t.is(await decodeInIsolate("gzip", [flipped(whole, head.length)]), "TypeError: DecompressionStream: incorrect header check");
  t.is(await decodeInIsolate("gzip", [flipped(whole, 3).fill(0x20 | 0x08, 3, 4)]), "TypeError: DecompressionStream: unknown header flags set");
  t.is(await decodeInIsolate("gzip", [head.subarray(0, 15)]), "TypeError: DecompressionStream: unexpected end of the compressed stream (truncated)");
  // zlib's two header bytes: a preset dictionary (FDICT) cannot be supplied, a bad check fails.
  t.is(await decodeInIsolate("deflate", [Buffer.of(0x78, 0xbb, 0, 0, 0, 0)]), "TypeError: DecompressionStream: need dictionary");
  t.is(await decodeInIsolate("deflate", [Buffer.of(0x78, 0x9d, 3, 0)]), "TypeError: DecompressionStream: incorrect header check");
});
