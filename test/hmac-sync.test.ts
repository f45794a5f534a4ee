import test from "ava";
import { webcrypto } from "node:crypto";
import { SYNC_CRYPTO_MAX_BYTES } from "../sandbox/prelude/protocol.js";
import { hmacSync } from "../sandbox/webcrypto/hmac-sync.js";
import { CryptoKeyTable } from "../sandbox/webcrypto/key-table.js";

async function tableWithKeys(): Promise<{ keys: CryptoKeyTable; hmac: number; signOnly: number; aes: number }> {
  const keys = new CryptoKeyTable(10);
  const raw = new Uint8Array(32).fill(7);
  const add = (key: webcrypto.CryptoKey): number => keys.add(key)?.id ?? -1;
  return {
    keys,
    hmac: add(await webcrypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])),
    signOnly: add(await webcrypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-1" }, false, ["sign"])),
    aes: add(await webcrypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt"])),
  };
}

test("hmac sync: answers the plain success path the same as Node's webcrypto", async (t) => {
  const { keys, hmac } = await tableWithKeys();
  const data = new TextEncoder().encode("payload").buffer;
  const key = keys.get(hmac) as webcrypto.CryptoKey;
  const expected = await webcrypto.subtle.sign("HMAC", key, data);
  const mac = hmacSync(keys, "sign", "hmac", hmac, data, null);
  t.deepEqual(Buffer.from(mac as ArrayBuffer), Buffer.from(expected));
  t.is(hmacSync(keys, "verify", "HMAC", hmac, data, expected), true);
  t.is(hmacSync(keys, "verify", "HMAC", hmac, data, expected.slice(1)), false);
});

test("hmac sync: leaves everything else to the asynchronous path and never throws", async (t) => {
  const { keys, hmac, signOnly, aes } = await tableWithKeys();
  const small = new ArrayBuffer(4);
  const answers = [
    hmacSync(keys, "encrypt", "HMAC", hmac, small, null),
    hmacSync(keys, "sign", "AES-GCM", aes, small, null),
    hmacSync(keys, "sign", "HMAC", aes, small, null),
    hmacSync(keys, "verify", "HMAC", signOnly, small, small),
    hmacSync(keys, "sign", "HMAC", 99, small, null),
    hmacSync(keys, "sign", "HMAC", "constructor", small, null),
    hmacSync(keys, "sign", "HMAC", hmac, "text", null),
    hmacSync(keys, "sign", "HMAC", hmac, new Uint8Array(4), null),
    hmacSync(keys, "sign", "HMAC", hmac, new ArrayBuffer(SYNC_CRYPTO_MAX_BYTES + 1), null),
    hmacSync(keys, "verify", "HMAC", hmac, small, null),
    hmacSync(keys, "sign", { toUpperCase: () => "HMAC" }, hmac, small, null),
  ];
  t.deepEqual(answers, Array(answers.length).fill("async"));
  t.true(hmacSync(keys, "sign", "HMAC", signOnly, small, null) instanceof ArrayBuffer);
});
