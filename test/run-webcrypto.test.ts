import test from "ava";
import { createCipheriv, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./helpers/edgehost-process.js";
import { withApp } from "./helpers/with-app.js";

/**
 * crypto.subtle end to end: a real edgehost process serving the WebCrypto
 * fixture app (test/fixtures/webcrypto/app.ts) over HTTP, the answers
 * checked against Node's own crypto.
 */

const APP = readFileSync(join(REPO_ROOT, "test/fixtures/webcrypto/app.ts"), "utf8");

function base64url(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString("base64url");
}

const PAYLOAD = { sub: "1234567890", name: "edgehost", iat: 1516239022 };

test("run webcrypto: JWTs with HS256, ES256 and EdDSA sign and verify, and AES-GCM round trips, as Node computes them", async (t) => {
  await withApp(t, APP, [], async (server) => {
    const get = async (path: string): Promise<unknown> => {
      const response = await fetch(`${server.url}${path}`);
      t.is(response.status, 200, path);
      return response.json();
    };
    const hsInput = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(PAYLOAD))}`;
    const hsToken = `${hsInput}.${createHmac("sha256", "a-shared-secret").update(hsInput).digest("base64url")}`;
    t.deepEqual(await get("/jwt/hs256"), { alg: "HS256", token: hsToken, verified: true, tampered: false, payload: PAYLOAD });
    const esInput = `${base64url(JSON.stringify({ alg: "ES256", typ: "JWT" }))}.${base64url(JSON.stringify(PAYLOAD))}`;
    t.deepEqual(await get("/jwt/es256"), { alg: "ES256", token: `${esInput}.<64 bytes>`, verified: true, tampered: false, payload: PAYLOAD });
    const ed = (await get("/jwt/eddsa")) as { token: string; verified: boolean; tampered: boolean };
    t.deepEqual([ed.token.split(".")[0], ed.verified, ed.tampered], [base64url(JSON.stringify({ alg: "EdDSA", typ: "JWT" })), true, false]);
    t.is(Buffer.from(ed.token.split(".")[2] ?? "", "base64url").length, 64);

    const key = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
    const cipher = createCipheriv("aes-256-gcm", key, Buffer.from("cafebabefacedbaddecaf888", "hex"));
    cipher.setAAD(Buffer.from("header"));
    const sealed = Buffer.concat([cipher.update("attack at dawn ☀"), cipher.final(), cipher.getAuthTag()]).toString("hex");
    t.deepEqual(await get("/aes-gcm"), { ciphertext: sealed, plaintext: "attack at dawn ☀", tampered: "OperationError", exported: key.toString("hex") });
  });
});

test("run webcrypto: a key imported at top level is usable in requests; keys made per request stay one host key when imported identically", async (t) => {
  const app = `
    const keyPromise = crypto.subtle.importKey("raw", new TextEncoder().encode("top"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    export default {
      async fetch() {
        const again = await crypto.subtle.importKey("raw", new TextEncoder().encode("top"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const [a, b] = await Promise.all([keyPromise, again].map(async (key) => new Uint8Array(await crypto.subtle.sign("HMAC", await key, new Uint8Array(0)))));
        return Response.json([a.length, a.every((byte, i) => byte === b[i])]);
      },
    };`;
  await withApp(t, app, [], async (server) => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/`);
      t.deepEqual([response.status, await response.json()], [200, [32, true]]);
    }
  });
});
