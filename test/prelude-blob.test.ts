import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("Blob: parts of every kind concatenate; size and type normalised", async (t) => {
  const result = await run(`(async () => {
    const inner = new Blob(["in"]);
    const b = new Blob(["a", new Uint8Array([98, 99]), new Uint16Array([0x6564]).buffer, new DataView(new Uint8Array([102]).buffer), inner, 7], { type: "Text/PLAIN;Charset=UTF-8" });
    return { size: b.size, type: b.type, text: await b.text(), bad: new Blob([], { type: "a\\u00e9" }).type, empty: new Blob().size,
      tag: Object.prototype.toString.call(b), bytes: [...await new Blob(["\\u00e9"]).bytes()] };
  })()`);
  t.deepEqual(result, { size: 9, type: "text/plain;charset=utf-8", text: "abcdefin7", bad: "", empty: 0, tag: "[object Blob]", bytes: [0xc3, 0xa9] });
});

test("Blob: endings native turns CRLF and lone CR into LF in strings only", async (t) => {
  const result = await run(`(async () => [
    await new Blob(["a\\r\\nb\\rc\\n"], { endings: "native" }).text(),
    await new Blob(["a\\r\\nb"], { endings: "transparent" }).text(),
    [...await new Blob([new Uint8Array([13, 10])], { endings: "native" }).bytes()],
    (() => { try { new Blob([], { endings: "other" }); return "ok"; } catch (e) { return e.name; } })(),
    (() => { try { new Blob("abc"); return "ok"; } catch (e) { return e.name; } })(),
  ])()`);
  t.deepEqual(result, ["a\nb\nc\n", "a\r\nb", [13, 10], "TypeError", "TypeError"]);
});

test("Blob: slice with negative and out-of-range indices and a content type", async (t) => {
  const result = await run(`(async () => {
    const b = new Blob(["0123456789"], { type: "text/plain" });
    const s = b.slice(-3);
    return [await s.text(), s.type, await b.slice(2, -2, "X/Y").text(), b.slice(2, -2, "X/Y").type, await b.slice(8, 3).text(), await b.slice(-100, 100).text(), b.slice(5).slice(1, 2).size, await b.slice(5).slice(1, 3).text()];
  })()`);
  t.deepEqual(result, ["789", "", "234567", "x/y", "", "0123456789", 1, "67"]);
});

test("Blob: arrayBuffer and bytes are copies; mutating them does not change the Blob", async (t) => {
  const result = await run(`(async () => {
    const source = new Uint8Array([1, 2, 3]);
    const b = new Blob([source]);
    source[0] = 9;
    const bytes = await b.bytes();
    bytes[1] = 9;
    const buffer = await b.arrayBuffer();
    return [[...await b.bytes()], buffer instanceof ArrayBuffer, buffer.byteLength];
  })()`);
  t.deepEqual(result, [[1, 2, 3], true, 3]);
});

test("Blob: stream() yields the bytes in chunks of at most 64 KiB, through the prelude's own ReadableStream", async (t) => {
  const result = await run(`(async () => {
    const bytes = new Uint8Array(150 * 1024).map((_, i) => i & 0xff);
    // Replacing the global must not change what Blob.stream() builds.
    globalThis.ReadableStream = function () { throw new Error("patched"); };
    const sizes = [];
    let sum = 0;
    for await (const chunk of new Blob([bytes]).stream()) {
      sizes.push(chunk.byteLength);
      for (const b of chunk) sum += b;
    }
    let expected = 0;
    for (const b of bytes) expected += b;
    return [sizes, sum === expected];
  })()`);
  t.deepEqual(result, [[65536, 65536, 22528], true]);
});

test("File: name, lastModified, type, and Blob behaviour", async (t) => {
  const result = await run(`(async () => {
    const f = new File(["hello"], "a/b.txt", { type: "Text/Plain", lastModified: 1234.9 });
    const now = Date.now();
    const g = new File([], "x");
    const errors = [];
    try { new File(["x"]); } catch (e) { errors.push(e.name); }
    return [f.name, f.lastModified, f.type, f.size, await f.text(), f instanceof Blob, Object.prototype.toString.call(f), Math.abs(g.lastModified - now) < 1000, errors,
      new File([], "n", { lastModified: NaN }).lastModified];
  })()`);
  t.deepEqual(result, ["a/b.txt", 1234, "text/plain", 5, "hello", true, "[object File]", true, ["TypeError"], 0]);
});

test("FormData: Blob values become Files named blob or the given filename; strings stay strings", async (t) => {
  const result = await run(`(() => {
    const form = new FormData();
    form.append("a", new Blob(["x"], { type: "text/csv" }));
    form.append("b", new File(["y"], "orig.txt", { lastModified: 5 }));
    form.append("c", new File(["z"], "orig.txt"), "renamed.txt");
    form.set("d", 42);
    const errors = [];
    try { form.append("e", "text", "name.txt"); } catch (e) { errors.push(e.name); }
    const a = form.get("a"), b = form.get("b"), c = form.get("c");
    return [a instanceof File, a.name, a.type, b.name, b.lastModified, c.name, form.get("d"), errors];
  })()`);
  t.deepEqual(result, [true, "blob", "text/csv", "orig.txt", 5, "renamed.txt", "42", ["TypeError"]]);
});

test("FormData body: multipart round trip through Response keeps files binary and fields as strings", async (t) => {
  const result = await run(`(async () => {
    const form = new FormData();
    form.append("field", "line1\\nline2");
    form.append("na\\"me", "v");
    const binary = new Uint8Array(256);
    for (let i = 0; i < 256; i++) binary[i] = i;
    form.append("file", new File([binary], "data.bin", { type: "application/x-thing" }));
    form.append("untyped", new Blob(["t"]));
    const response = new Response(form);
    const contentType = response.headers.get("content-type");
    const parsed = await response.formData();
    const file = parsed.get("file");
    return { boundary: /^multipart\\/form-data; boundary=----edgehostFormBoundary[0-9a-f]{24}$/.test(contentType),
      keys: [...parsed.keys()], field: parsed.get("field"), quoted: parsed.get("na\\"me"), name: file.name, type: file.type, bytes: [...await file.bytes()].every((v, i) => v === i) && file.size === 256,
      untyped: [parsed.get("untyped").name, parsed.get("untyped").type] };
  })()`);
  t.deepEqual(result, {
    boundary: true,
    keys: ["field", "na\"me", "file", "untyped"],
    field: "line1\r\nline2",
    quoted: "v",
    name: "data.bin",
    type: "application/x-thing",
    bytes: true,
    untyped: ["blob", "application/octet-stream"],
  });
});

test("FormData body: the multipart bytes are as the HTML Standard encodes them", async (t) => {
  const result = await run(`(async () => {
    const form = new FormData();
    form.append("a\\rb", "x\\ry");
    form.append("f", new File(["hi"], "q\\"\\n.txt", { type: "text/plain" }));
    const response = new Response(form);
    const boundary = response.headers.get("content-type").split("boundary=")[1];
    return (await response.text()).split(boundary).join("B");
  })()`);
  t.is(result, '--B\r\nContent-Disposition: form-data; name="a%0D%0Ab"\r\n\r\nx\r\ny\r\n--B\r\nContent-Disposition: form-data; name="f"; filename="q%22%0A.txt"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B--\r\n');
});

test("multipart parsing: preamble, epilogue, quoted boundary, file without type, headers case-insensitive", async (t) => {
  const result = await run(`(async () => {
    const body = "preamble\\r\\n--XyZ\\r\\ncontent-disposition: form-data; name=plain\\r\\n\\r\\nvalue one\\r\\n--XyZ\\r\\nCONTENT-DISPOSITION: Form-Data; filename=\\"f.txt\\"; name=\\"up\\"\\r\\n\\r\\nfile body\\r\\n--XyZ--\\r\\nepilogue";
    const form = await new Request("https://x.example/", { method: "POST", body, headers: { "content-type": 'multipart/form-data; boundary="XyZ"' } }).formData();
    const file = form.get("up");
    return [form.get("plain"), file.name, file.type, await file.text()];
  })()`);
  t.deepEqual(result, ["value one", "f.txt", "text/plain", "file body"]);
});

test("multipart parsing: malformed bodies and missing boundary reject with TypeError", async (t) => {
  const result = await run(`(async () => {
    const cases = [
      ["multipart/form-data", "--a\\r\\n\\r\\n--a--"],
      ["multipart/form-data; boundary=a", "no boundary here"],
      ["multipart/form-data; boundary=a", "--a\\r\\nContent-Disposition: form-data; name=x\\r\\n\\r\\nunterminated"],
      ["multipart/form-data; boundary=a", "--a\\r\\nContent-Type: text/plain\\r\\n\\r\\nv\\r\\n--a--"],
      ["multipart/form-data; boundary=a", "--a\\r\\nContent-Disposition: form-data; name=x"],
      ["multipart/form-data; boundary=a", "--a\\r\\nContent-Disposition: form-data; name=x\\r\\nX-Big: " + "h".repeat(17000) + "\\r\\n\\r\\nv\\r\\n--a--"],
      ["multipart/form-data; boundary=a", "--a\\r\\nContent-Disposition: form-data; name=x\\r\\n\\r\\nv\\r\\n--a" + "\\r\\nContent-Disposition: form-data; name=x\\r\\n\\r\\nv\\r\\n--a".repeat(10000) + "--"],
      ["text/plain", "x"],
    ];
    const out = [];
    for (const [type, body] of cases) {
      const r = new Response(body, { headers: { "content-type": type } });
      try { await r.formData(); out.push("ok"); } catch (e) { out.push(e.name + (r.bodyUsed ? "" : " (unused)")); }
    }
    return out;
  })()`);
  t.deepEqual(result, Array(8).fill("TypeError"));
});

test("Body: blob() takes the content type; Blob bodies set content-type unless given", async (t) => {
  const result = await run(`(async () => {
    const fromBlob = new Response(new Blob(["abc"], { type: "image/png" }));
    const untyped = new Response(new Blob(["abc"]));
    const overridden = new Response(new Blob(["abc"], { type: "image/png" }), { headers: { "content-type": "text/x" } });
    const blob = await new Response("héllo", { headers: { "content-type": "Text/Plain;A=B" } }).blob();
    const empty = await new Response(null).blob();
    return [fromBlob.headers.get("content-type"), untyped.headers.get("content-type"), overridden.headers.get("content-type"), await fromBlob.text(),
      blob.type, blob.size, await blob.text(), empty.size, empty.type];
  })()`);
  t.deepEqual(result, ["image/png", null, "text/x", "abc", "text/plain;a=b", 6, "héllo", 0, ""]);
});

test("Body: bytes, blob, formData and clone for every body kind on Request and Response", async (t) => {
  const result = await run(`(async () => {
    const form = new FormData(); form.append("k", "v");
    const kinds = { string: "s=1", bytes: new Uint8Array([115, 61, 49]), blob: new Blob(["s=1"]), form, params: new URLSearchParams("s=1"), none: null };
    const out = {};
    for (const [kind, body] of Object.entries(kinds)) {
      const response = new Response(body);
      const copy = response.clone();
      const request = new Request("https://x.example/", { method: "POST", body });
      const requestCopy = request.clone();
      const bytes = await response.bytes();
      const text = await (await copy.blob()).text();
      out[kind] = [bytes.length, text === new TextDecoder().decode(bytes), response.bodyUsed, copy.bodyUsed, (await request.text()) === text, (await requestCopy.arrayBuffer()).byteLength];
    }
    out.formParsed = [(await new Response(form).formData()).get("k"), (await new Response(new URLSearchParams("a=1&a=2")).formData()).getAll("a")];
    return out;
  })()`);
  t.deepEqual(result, {
    string: [3, true, true, true, true, 3],
    bytes: [3, true, true, true, true, 3],
    blob: [3, true, true, true, true, 3],
    // Each extraction of a FormData draws a fresh boundary, so the request's bytes differ from the response's.
    form: [(result as { form: number[] }).form[0], true, true, true, false, (result as { form: number[] }).form[0]],
    params: [3, true, true, true, true, 3],
    none: [0, true, false, false, true, 0],
    formParsed: ["v", ["1", "2"]],
  });
});

test("Body: a locked body cannot be read, cloned or re-used; a used body rejects", async (t) => {
  const result = await run(`(async () => {
    const out = [];
    const r = new Response("x");
    r.body.getReader();
    try { await r.text(); out.push("read"); } catch (e) { out.push(e.name); }
    try { r.clone(); out.push("cloned"); } catch (e) { out.push(e.name); }
    const used = new Request("https://x.example/", { method: "POST", body: "y" });
    await used.text();
    try { await used.blob(); out.push("read"); } catch (e) { out.push(e.name); }
    try { new Request(used); out.push("reused"); } catch (e) { out.push(e.name); }
    try { used.clone(); out.push("cloned"); } catch (e) { out.push(e.name); }
    return out;
  })()`);
  t.deepEqual(result, ["TypeError", "TypeError", "TypeError", "TypeError", "TypeError"]);
});
