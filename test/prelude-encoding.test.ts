import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

test("TextEncoder: encodes UTF-8 including surrogate pairs and replaces lone surrogates", async (t) => {
  const result = await run(`(() => {
    const e = new TextEncoder();
    return [e.encoding, [...e.encode("aé€😀")], [...e.encode("\\ud800x")], [...e.encode()], e.encode("x") instanceof Uint8Array];
  })()`);
  t.deepEqual(result, [
    "utf-8",
    [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80],
    [0xef, 0xbf, 0xbd, 0x78],
    [],
    true,
  ]);
});

test("TextEncoder: encodeInto stops before a code point that does not fit", async (t) => {
  const result = await run(`(() => {
    const out = new Uint8Array(5);
    const progress = new TextEncoder().encodeInto("ab😀c", out);
    return [progress, [...out]];
  })()`);
  t.deepEqual(result, [{ read: 2, written: 2 }, [0x61, 0x62, 0, 0, 0]]);
});

test("TextDecoder: decodes valid UTF-8 and strips the BOM unless ignoreBOM", async (t) => {
  const result = await run(`(() => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]);
    return [new TextDecoder().decode(bytes), new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes).length,
      new TextDecoder().decode(bytes.buffer), new TextDecoder().decode(new DataView(bytes.buffer, 3, 3))];
  })()`);
  t.deepEqual(result, ["hé😀", 5, "hé😀", "hé"]);
});

test("TextDecoder: invalid UTF-8 becomes U+FFFD, or TypeError when fatal", async (t) => {
  const result = await run(`(() => {
    const invalid = [[0xff], [0xc3], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61, 0x80, 0x62]];
    const lenient = invalid.map((bytes) => new TextDecoder().decode(new Uint8Array(bytes)));
    const fatal = invalid.map((bytes) => {
      try { new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes)); return "decoded"; } catch (error) { return error.name; }
    });
    return { lenient, fatal, flag: new TextDecoder("utf8", { fatal: true }).fatal };
  })()`);
  t.deepEqual(result, {
    lenient: ["\ufffd", "\ufffd", "\ufffd\ufffd\ufffd", "\ufffd\ufffd\ufffd", "\ufffd\ufffd\ufffd\ufffd", "a\ufffdb"],
    fatal: Array(6).fill("TypeError"),
    flag: true,
  });
});

test("TextDecoder: streaming keeps a code point split across chunks", async (t) => {
  const result = await run(`(() => {
    const bytes = new TextEncoder().encode("€😀");
    const decoder = new TextDecoder();
    const pieces = [];
    for (let i = 0; i < bytes.length; i++) pieces.push(decoder.decode(bytes.subarray(i, i + 1), { stream: true }));
    pieces.push(decoder.decode());
    const truncated = new TextDecoder();
    const partial = truncated.decode(bytes.subarray(0, 2), { stream: true }) + truncated.decode();
    return [pieces, partial];
  })()`);
  t.deepEqual(result, [["", "", "€", "", "", "", "😀", ""], "\ufffd"]);
});

test("TextDecoder: accepts the UTF-8 labels and refuses other encodings with RangeError", async (t) => {
  const result = await run(`(() => {
    const labels = ["utf-8", "UTF8", " unicode-1-1-utf-8 ", "utf8"].map((label) => new TextDecoder(label).encoding);
    let refused;
    try { new TextDecoder("latin1"); } catch (error) { refused = error.name; }
    return [labels, refused];
  })()`);
  t.deepEqual(result, [["utf-8", "utf-8", "utf-8", "utf-8"], "RangeError"]);
});

test("TextDecoder: decodes a large body the same as Node does", async (t) => {
  const text = "ascii run " + "é€😀".repeat(5000) + " end";
  const result = await run(`new TextDecoder().decode(new TextEncoder().encode(${JSON.stringify(text)}))`);
  t.is(result, text);
});

test("btoa/atob: round-trip binary strings and follow forgiving-base64", async (t) => {
  const result = await run(`(() => {
    let binary = "";
    for (let i = 0; i < 256; i++) binary += String.fromCharCode(i);
    return [btoa(""), btoa("f"), btoa("fo"), btoa("foo"), atob(btoa(binary)) === binary, atob(" Zm9v\\nYmE= "), atob("Zm9vYg"), atob("Zg==")];
  })()`);
  t.deepEqual(result, ["", "Zg==", "Zm8=", "Zm9v", true, "fooba", "foob", "f"]);
});

test("btoa/atob: invalid input throws InvalidCharacterError DOMException", async (t) => {
  const result = await run(`(() => {
    const attempts = [() => btoa("€"), () => atob("Zm9v!"), () => atob("Z"), () => atob("Zm9=v"), () => atob("Zg===")];
    return attempts.map((attempt) => {
      try { attempt(); return "ok"; } catch (error) { return [error instanceof DOMException, error.name, error.code]; }
    });
  })()`);
  t.deepEqual(result, Array(5).fill([true, "InvalidCharacterError", 5]));
});
