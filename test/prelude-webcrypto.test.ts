import test from "ava";
import { createPrivateKey, createPublicKey, diffieHellman } from "node:crypto";
import { sharedPrelude, withPrelude } from "./helpers/prelude-harness.js";

/**
 * crypto.subtle inside a real isolate, backed by the production host side
 * (sandbox/webcrypto, wired into the harness): known-answer vectors from the
 * RFCs, round trips for every algorithm and method, and the spec's error names.
 */

const run = sharedPrelude(test);

/** Helpers defined in the isolate before each snippet. */
const HELPERS = `
  const s = crypto.subtle;
  const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
  const utf8 = (t) => new TextEncoder().encode(t);
  const errorOf = (p) => p.then(() => "resolved", (e) => (e instanceof DOMException ? "DOMException:" : "") + e.name);
`;

function inIsolate<T>(body: string): Promise<T> {
  return run<T>(`(async () => { ${HELPERS} ${body} })()`);
}

test("webcrypto HMAC: RFC 4231 test cases 1 and 2 (SHA-256, SHA-512), verify and tampered verify", async (t) => {
  const result = await inIsolate(`
    const k1 = await s.importKey("raw", unhex("0b".repeat(20)), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    const k1b = await s.importKey("raw", unhex("0b".repeat(20)), { name: "hmac", hash: { name: "sha-512" } }, false, ["sign"]);
    const k2 = await s.importKey("raw", utf8("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    const sig2 = await s.sign("HMAC", k2, utf8("what do ya want for nothing?"));
    return [hex(await s.sign("HMAC", k1, utf8("Hi There"))), hex(await s.sign({ name: "HMAC" }, k1b, utf8("Hi There"))), hex(sig2),
      await s.verify("HMAC", k2, sig2, utf8("what do ya want for nothing?")), await s.verify("HMAC", k2, sig2, utf8("what do ya want for nothing!"))];
  `);
  t.deepEqual(result, [
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    true,
    false,
  ]);
});

test("webcrypto HMAC: small inputs answered during the call agree with Node on both sides of the 64 KiB bound, and odd signatures verify false", async (t) => {
  const key = Buffer.from("0123456789abcdef0123456789abcdef");
  const sizes = [0, 1, 1000, 65536, 65537];
  const result = await inIsolate<{ macs: string[]; verified: boolean[]; view: string }>(`
    const key = await s.importKey("raw", utf8("0123456789abcdef0123456789abcdef"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    const data = (n) => new Uint8Array(n).map((_, i) => i % 251);
    const macs = [];
    for (const n of ${JSON.stringify(sizes)}) macs.push(hex(await s.sign("hmac", key, data(n))));
    const good = await s.sign("HMAC", key, data(10));
    const verified = [await s.verify("HMAC", key, good, data(10)), await s.verify("HMAC", key, good.slice(0, 31), data(10)),
      await s.verify("HMAC", key, new Uint8Array(0), data(10)), await s.verify("HMAC", key, good, data(65537)), await s.verify("HMAC", key, new Uint8Array(65537), data(10))];
    // A view into a larger buffer signs only its own bytes.
    const view = hex(await s.sign("HMAC", key, new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)));
    return { macs, verified, view };
  `);
  const { createHmac } = await import("node:crypto");
  const data = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
  t.deepEqual(result, {
    macs: sizes.map((n) => createHmac("sha256", key).update(data(n)).digest("hex")),
    verified: [true, false, false, false, false],
    view: createHmac("sha256", key).update(Buffer.from([1, 2, 3])).digest("hex"),
  });
});

test("webcrypto HKDF: RFC 5869 test case 1 through deriveBits and deriveKey", async (t) => {
  const result = await inIsolate(`
    const ikm = await s.importKey("raw", unhex("0b".repeat(22)), "HKDF", false, ["deriveBits", "deriveKey"]);
    const params = { name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") };
    const bits = await s.deriveBits(params, ikm, 42 * 8);
    const key = await s.deriveKey(params, ikm, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
    return [hex(bits), hex(await s.exportKey("raw", key)), key.algorithm.name, key.algorithm.length];
  `);
  const okm = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
  t.deepEqual(result, [okm, okm.slice(0, 64), "HMAC", 256]);
});

test("webcrypto PBKDF2: RFC 6070 (SHA-1, 1, 2 and 4096 iterations); more than 100,000 iterations is NotSupportedError", async (t) => {
  const result = await inIsolate(`
    const key = await s.importKey("raw", utf8("password"), "PBKDF2", false, ["deriveBits"]);
    const derive = (c) => s.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: utf8("salt"), iterations: c }, key, 160).then(hex);
    return [await derive(1), await derive(2), await derive(4096),
      await errorOf(s.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: utf8("salt"), iterations: 100001 }, key, 256))];
  `);
  t.deepEqual(result, [
    "0c60c80f961f0e71f3a9b524af6012062fe037a6",
    "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957",
    "4b007901b765489abead49d926f721d065a429c1",
    "DOMException:NotSupportedError",
  ]);
});

test("webcrypto AES-GCM: GCM spec test cases 2 and 3 (AES-128), decrypt round trip, a flipped tag is OperationError", async (t) => {
  const result = await inIsolate(`
    const zero = await s.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
    const c2 = await s.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, zero, new Uint8Array(16));
    const key = await s.importKey("raw", unhex("feffe9928665731c6d6a8f9467308308"), { name: "aes-gcm" }, false, ["encrypt", "decrypt"]);
    const iv = unhex("cafebabefacedbaddecaf888");
    const plain = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    const c3 = new Uint8Array(await s.encrypt({ name: "AES-GCM", iv }, key, unhex(plain)));
    const back = await s.decrypt({ name: "AES-GCM", iv }, key, c3);
    c3[c3.length - 1] ^= 1;
    return [hex(c2), hex(c3.slice(0, 64)), hex(back), await errorOf(s.decrypt({ name: "AES-GCM", iv }, key, c3))];
  `);
  t.deepEqual(result, [
    "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
    "DOMException:OperationError",
  ]);
});

test("webcrypto AES-CBC, AES-CTR and AES-KW: generated keys round trip; wrapKey/unwrapKey with AES-KW (RFC 3394 4.1)", async (t) => {
  const result = await inIsolate(`
    const out = [];
    const data = utf8("sixteen byte blk and some more");
    for (const [name, params] of [["AES-CBC", { iv: new Uint8Array(16).fill(7) }], ["AES-CTR", { counter: new Uint8Array(16), length: 64 }]]) {
      const key = await s.generateKey({ name, length: 256 }, true, ["encrypt", "decrypt"]);
      const sealed = await s.encrypt({ name, ...params }, key, data);
      out.push(name, new TextDecoder().decode(await s.decrypt({ name, ...params }, key, sealed)), key.algorithm.length);
    }
    const kek = await s.importKey("raw", unhex("000102030405060708090A0B0C0D0E0F"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
    const inner = await s.importKey("raw", unhex("00112233445566778899AABBCCDDEEFF"), "AES-GCM", true, ["encrypt"]);
    const wrapped = await s.wrapKey("raw", inner, kek, "AES-KW");
    const unwrapped = await s.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt"]);
    out.push(hex(wrapped), hex(await s.exportKey("raw", unwrapped)), unwrapped instanceof CryptoKey);
    return out;
  `);
  t.deepEqual(result, [
    "AES-CBC", "sixteen byte blk and some more", 256,
    "AES-CTR", "sixteen byte blk and some more", 256,
    "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5", "00112233445566778899aabbccddeeff", true,
  ]);
});

test("webcrypto Ed25519: RFC 8032 test 1 signature from a pkcs8 import; public key from the JWK export", async (t) => {
  const result = await inIsolate(`
    const seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const priv = await s.importKey("pkcs8", unhex("302e020100300506032b657004220420" + seed), "Ed25519", true, ["sign"]);
    const pub = await s.importKey("raw", unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), { name: "Ed25519" }, true, ["verify"]);
    const sig = await s.sign("Ed25519", priv, new Uint8Array(0));
    const jwk = await s.exportKey("jwk", priv);
    return [hex(sig), await s.verify("Ed25519", pub, sig, new Uint8Array(0)), await s.verify("Ed25519", pub, sig, new Uint8Array(1)), jwk.kty, jwk.crv,
      hex(await s.exportKey("raw", pub)), priv.type, pub.type, priv.algorithm.name];
  `);
  t.deepEqual(result, [
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    true, false, "OKP", "Ed25519",
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "private", "public", "Ed25519",
  ]);
});

test("webcrypto X25519: RFC 7748 6.1 keys: public keys from the private keys, both sides derive Node's shared secret", async (t) => {
  const alice = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const bob = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
  const prefix = "302e020100300506032b656e04220420";
  const result = await inIsolate<string[]>(`
    const a = await s.importKey("pkcs8", unhex("${prefix}${alice}"), "X25519", true, ["deriveBits"]);
    const b = await s.importKey("pkcs8", unhex("${prefix}${bob}"), "X25519", true, ["deriveBits"]);
    const pubOf = async (k) => s.importKey("jwk", { kty: "OKP", crv: "X25519", x: (await s.exportKey("jwk", k)).x }, "X25519", true, []);
    const aPub = await pubOf(a), bPub = await pubOf(b);
    return [hex(await s.exportKey("raw", aPub)), hex(await s.exportKey("raw", bPub)),
      hex(await s.deriveBits({ name: "X25519", public: bPub }, a, 256)), hex(await s.deriveBits({ name: "X25519", public: aPub }, b, null))];
  `);
  const key = (hex: string) => createPrivateKey({ key: Buffer.from(prefix + hex, "hex"), format: "der", type: "pkcs8" });
  const shared = diffieHellman({ privateKey: key(alice), publicKey: createPublicKey(key(bob)) }).toString("hex");
  t.deepEqual(result, [
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    shared,
    shared,
  ]);
});

test("webcrypto ECDSA and ECDH on P-256, P-384, P-521: sign/verify, spki/pkcs8/jwk round trips, shared secrets agree", async (t) => {
  const result = await inIsolate(`
    const out = [];
    for (const [curve, hash, bits] of [["P-256", "SHA-256", 256], ["P-384", "SHA-384", 384], ["P-521", "SHA-512", 528]]) {
      const pair = await s.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"]);
      const sig = await s.sign({ name: "ECDSA", hash }, pair.privateKey, utf8("msg"));
      const spki = await s.importKey("spki", await s.exportKey("spki", pair.publicKey), { name: "ECDSA", namedCurve: curve }, true, ["verify"]);
      const jwk = await s.importKey("jwk", await s.exportKey("jwk", pair.publicKey), { name: "ECDSA", namedCurve: curve }, true, ["verify"]);
      const pkcs8 = await s.importKey("pkcs8", await s.exportKey("pkcs8", pair.privateKey), { name: "ECDSA", namedCurve: curve }, false, ["sign"]);
      const sig2 = await s.sign({ name: "ECDSA", hash }, pkcs8, utf8("msg"));
      out.push(await s.verify({ name: "ECDSA", hash }, spki, sig, utf8("msg")), await s.verify({ name: "ECDSA", hash }, jwk, sig2, utf8("msg")),
        await s.verify({ name: "ECDSA", hash }, spki, sig, utf8("msh")));
      const a = await s.generateKey({ name: "ECDH", namedCurve: curve }, false, ["deriveBits"]);
      const b = await s.generateKey({ name: "ECDH", namedCurve: curve }, false, ["deriveBits"]);
      const ab = await s.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, bits);
      const ba = await s.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, bits);
      out.push(hex(ab) === hex(ba), ab.byteLength, a.publicKey.algorithm.namedCurve);
    }
    return out;
  `);
  t.deepEqual(result, [true, true, false, true, 32, "P-256", true, true, false, true, 48, "P-384", true, true, false, true, 66, "P-521"]);
});

test("webcrypto RSA: RSASSA-PKCS1-v1_5, RSA-PSS sign/verify and RSA-OAEP round trip; spki/pkcs8/jwk round trips; algorithm members", async (t) => {
  const result = await inIsolate(`
    const gen = (name, usages) => s.generateKey({ name, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, usages);
    const out = [];
    const pkcs = await gen("RSASSA-PKCS1-v1_5", ["sign", "verify"]);
    const sig = await s.sign("RSASSA-PKCS1-v1_5", pkcs.privateKey, utf8("m"));
    const viaJwk = await s.importKey("jwk", await s.exportKey("jwk", pkcs.publicKey), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
    out.push(sig.byteLength, await s.verify("RSASSA-PKCS1-v1_5", viaJwk, sig, utf8("m")));
    const pss = await gen("RSA-PSS", ["sign", "verify"]);
    const pssSig = await s.sign({ name: "RSA-PSS", saltLength: 32 }, pss.privateKey, utf8("m"));
    const viaSpki = await s.importKey("spki", await s.exportKey("spki", pss.publicKey), { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
    out.push(await s.verify({ name: "RSA-PSS", saltLength: 32 }, viaSpki, pssSig, utf8("m")), await s.verify({ name: "RSA-PSS", saltLength: 32 }, viaSpki, pssSig, utf8("n")));
    const oaep = await gen("RSA-OAEP", ["encrypt", "decrypt"]);
    const sealed = await s.encrypt({ name: "RSA-OAEP", label: utf8("l") }, oaep.publicKey, utf8("secret"));
    const priv = await s.importKey("pkcs8", await s.exportKey("pkcs8", oaep.privateKey), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]);
    out.push(new TextDecoder().decode(await s.decrypt({ name: "RSA-OAEP", label: utf8("l") }, priv, sealed)));
    const alg = oaep.publicKey.algorithm;
    out.push(alg.name, alg.modulusLength, [...alg.publicExponent], alg.hash.name, alg.publicExponent instanceof Uint8Array, oaep.publicKey.algorithm === alg);
    out.push(await errorOf(s.generateKey({ name: "RSA-PSS", modulusLength: 8192, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"])));
    return out;
  `);
  t.deepEqual(result, [256, true, true, false, "secret", "RSA-OAEP", 2048, [1, 0, 1], "SHA-256", true, true, "DOMException:NotSupportedError"]);
});

test("webcrypto JWK: oct and EC private keys round trip through export and import", async (t) => {
  const result = await inIsolate(`
    const hmac = await s.generateKey({ name: "HMAC", hash: "SHA-384" }, true, ["sign", "verify"]);
    const jwk = await s.exportKey("jwk", hmac);
    const again = await s.importKey("jwk", jwk, { name: "HMAC", hash: "SHA-384" }, true, ["sign", "verify"]);
    const ec = await s.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const ecJwk = await s.exportKey("jwk", ec.privateKey);
    const ecAgain = await s.importKey("jwk", ecJwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    return [jwk.kty, jwk.alg, jwk.ext, [...jwk.key_ops].sort().join(), hex(await s.exportKey("raw", again)) === hex(await s.exportKey("raw", hmac)),
      (await s.exportKey("jwk", ecAgain)).d === ecJwk.d, ecJwk.crv, typeof ecJwk.x];
  `);
  t.deepEqual(result, ["oct", "HS384", true, "sign,verify", true, true, "P-256", "string"]);
});

test("webcrypto errors: spec names for wrong usages, wrong key types, bad lengths, bad dictionaries and unknown algorithms", async (t) => {
  const result = await inIsolate(`
    const hmac = await s.importKey("raw", utf8("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const aes = await s.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt"]);
    return {
      verifyWithoutUsage: await errorOf(s.verify("HMAC", hmac, new Uint8Array(32), utf8("x"))),
      wrongKeyType: await errorOf(s.sign("HMAC", aes, utf8("x"))),
      exportNonExtractable: await errorOf(s.exportKey("raw", hmac)),
      badAesLength: await errorOf(s.importKey("raw", new Uint8Array(15), "AES-GCM", false, ["encrypt"])),
      badGenerateLength: await errorOf(s.generateKey({ name: "AES-GCM", length: 100 }, false, ["encrypt"])),
      badUsage: await errorOf(s.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["sign"])),
      emptyUsages: await errorOf(s.importKey("raw", new Uint8Array(16), "AES-GCM", false, [])),
      missingHash: await errorOf(s.importKey("raw", utf8("k"), { name: "HMAC" }, false, ["sign"])),
      missingName: await errorOf(s.sign({}, hmac, utf8("x"))),
      unknownAlgorithm: await errorOf(s.generateKey({ name: "ROT13" }, false, ["sign"])),
      notAKey: await errorOf(s.sign("HMAC", { type: "secret" }, utf8("x"))),
      notABuffer: await errorOf(s.sign("HMAC", hmac, "text")),
      badJwk: await errorOf(s.importKey("jwk", { kty: "oct", k: "%%%" }, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])),
      badFormat: await errorOf(s.importKey("der", new Uint8Array(16), "AES-GCM", false, ["encrypt"])),
      badIvLength: await errorOf(s.encrypt({ name: "AES-CBC", iv: new Uint8Array(3) }, await s.generateKey({ name: "AES-CBC", length: 128 }, false, ["encrypt"]), utf8("x"))),
    };
  `);
  t.deepEqual(result, {
    verifyWithoutUsage: "DOMException:InvalidAccessError",
    wrongKeyType: "DOMException:InvalidAccessError",
    exportNonExtractable: "DOMException:InvalidAccessError",
    badAesLength: "DOMException:DataError",
    badGenerateLength: "DOMException:OperationError",
    badUsage: "DOMException:SyntaxError",
    emptyUsages: "DOMException:SyntaxError",
    missingHash: "TypeError",
    missingName: "TypeError",
    unknownAlgorithm: "DOMException:NotSupportedError",
    notAKey: "TypeError",
    notABuffer: "TypeError",
    badJwk: "DOMException:DataError",
    badFormat: "TypeError",
    badIvLength: "DOMException:OperationError",
  });
});

test("webcrypto CryptoKey: not constructible, instanceof works, brand-checked getters, a look-alike is refused", async (t) => {
  const result = await inIsolate(`
    const key = await s.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const getter = Object.getOwnPropertyDescriptor(CryptoKey.prototype, "type").get;
    let constructed = "constructed"; try { new CryptoKey(); } catch (e) { constructed = e.name; }
    let branded = "read"; try { getter.call({}); } catch (e) { branded = e.name; }
    const fake = Object.create(CryptoKey.prototype);
    return [constructed, branded, key instanceof CryptoKey, fake instanceof CryptoKey, await errorOf(s.sign("HMAC", fake, utf8("x"))),
      Object.prototype.toString.call(key), key.extractable, key.usages, key.usages === key.usages];
  `);
  t.deepEqual(result, ["TypeError", "TypeError", true, true, "TypeError", "[object CryptoKey]", false, ["sign"], true]);
});

test("webcrypto: large inputs (over 1 MiB) go through the host's worker thread and match the small path; operations past the in-flight bound are queued", async (t) => {
  const result = await inIsolate(`
    const key = await s.importKey("raw", new Uint8Array(32).fill(1), "AES-GCM", false, ["encrypt", "decrypt"]);
    const big = new Uint8Array(3 * 1024 * 1024).fill(0x61);
    const iv = new Uint8Array(12);
    const sealed = await s.encrypt({ name: "AES-GCM", iv }, key, big);
    const opened = new Uint8Array(await s.decrypt({ name: "AES-GCM", iv }, key, sealed));
    const hk = await s.importKey("raw", utf8("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sigs = await Promise.all(Array.from({ length: 8 }, (_, i) => s.sign("HMAC", hk, utf8("m" + (i % 2))).then(hex)));
    return [sealed.byteLength, opened.length, opened.every((b) => b === 0x61), new Set(sigs).size, sigs[0] === sigs[2]];
  `);
  t.deepEqual(result, [3 * 1024 * 1024 + 16, 3 * 1024 * 1024, true, 2, true]);
});

test("webcrypto: key ids are per isolate: two isolates each have key 1, and each signs with its own", async (t) => {
  await withPrelude({}, async (first) => {
    await withPrelude({}, async (second) => {
      const importAndSign = (secret: string) => `(async () => {
        const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(${JSON.stringify(secret)}), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, new Uint8Array(0)))].map((b) => b.toString(16).padStart(2, "0")).join("");
      })()`;
      const a = await first.evaluate<string>(importAndSign("first"));
      const b = await second.evaluate<string>(importAndSign("second"));
      t.not(a, b);
      t.is(first.crypto.keyCount, 1);
      t.is(second.crypto.keyCount, 1);
      // The second isolate's table has no key 2 even though ids are small integers: a key made in the first is not reachable.
      await first.evaluate(`crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]).then(() => 0)`);
      t.is(first.crypto.keyCount, 2);
      const refused = await second.crypto.start("sign", [{ name: "HMAC" }, 2, new ArrayBuffer(1)]);
      t.deepEqual({ ...refused }, { error: "InvalidAccessError", message: "key is not a CryptoKey of this isolate" });
    });
  });
});

test("webcrypto: importing the same secret again reuses the host key (an app importing per request holds one)", async (t) => {
  await withPrelude({}, async (harness) => {
    await harness.evaluate(`(async () => {
      for (let i = 0; i < 50; i++) await crypto.subtle.importKey("raw", new TextEncoder().encode("same"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      await crypto.subtle.importKey("raw", new TextEncoder().encode("other"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    })()`);
    t.is(harness.crypto.keyCount, 2);
  });
});
