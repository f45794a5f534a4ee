/**
 * crypto.DigestStream and MD5 inside the prelude (sandbox/prelude/
 * digest-stream.ts): what the workerd differential test (/digest-stream)
 * cannot compare, because workerd hangs the request on it, or because it
 * needs patched built-ins.
 */
import test from "ava";
import { sharedPrelude } from "./helpers/prelude-harness.js";

const run = sharedPrelude(test);

const HEX = `const hex = (buffer) => [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");`;

test("a chunk that is neither a string nor a BufferSource errors the stream and rejects the digest with the same TypeError", async (t) => {
  const result = await run(`(async () => {
    const stream = new crypto.DigestStream("SHA-256");
    const digest = stream.digest.then(() => "resolved", (error) => error.name);
    const write = await stream.getWriter().write(42).then(() => "written", (error) => error.name);
    return [write, await digest];
  })()`);
  t.deepEqual(result, ["TypeError", "TypeError"]);
});

test("the hash does not depend on tenant patches: SubtleCrypto.prototype.digest replaced, the typed-array byteLength getter lying", async (t) => {
  const result = await run(`(async () => {
    ${HEX}
    const expected = hex(await crypto.subtle.digest("SHA-256", new Uint8Array([1, 2, 3, 4])));
    const proto = Object.getPrototypeOf(Uint8Array.prototype);
    const savedLength = Object.getOwnPropertyDescriptor(proto, "byteLength");
    const savedDigest = SubtleCrypto.prototype.digest;
    SubtleCrypto.prototype.digest = async () => new ArrayBuffer(1);
    Object.defineProperty(proto, "byteLength", { get: () => 1, configurable: true });
    try {
      const stream = new crypto.DigestStream("SHA-256");
      const writer = stream.getWriter();
      await writer.write(new Uint8Array([1, 2]));
      await writer.write(new Uint8Array([3, 4]));
      await writer.close();
      Object.defineProperty(proto, "byteLength", savedLength);
      return [hex(await stream.digest) === expected, String(stream.bytesWritten)];
    } finally {
      Object.defineProperty(proto, "byteLength", savedLength);
      SubtleCrypto.prototype.digest = savedDigest;
    }
  })()`);
  t.deepEqual(result, [true, "4"]);
});

test("MD5 through crypto.subtle.digest and DigestStream gives RFC 1321's test vectors; the class is made once and checks its receiver", async (t) => {
  const result = await run(`(async () => {
    ${HEX}
    const stream = new crypto.DigestStream("md5");
    const writer = stream.getWriter();
    await writer.write("message ");
    await writer.write("digest");
    await writer.close();
    const getter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(stream), "digest").get;
    let receiver;
    try { getter.call({}); } catch (error) { receiver = error.name; }
    return [
      hex(await crypto.subtle.digest("MD5", new Uint8Array(0))),
      hex(await stream.digest),
      crypto.DigestStream === crypto.DigestStream,
      receiver,
    ];
  })()`);
  t.deepEqual(result, ["d41d8cd98f00b204e9800998ecf8427e", "f96b697d7cb7938d525a2f31aaf161d0", true, "TypeError"]);
});
