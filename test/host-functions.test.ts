import test from "ava";
import ivm from "isolated-vm";
import { createHostCallbacks, type HostCallHandlers } from "../sandbox/host-functions.js";
import { HOST_FUNCTION_NAMES } from "../sandbox/prelude/protocol.js";

test("host functions: sync calls answer refusal codes for any input and a throwing handler never reaches the isolate", async (t) => {
  const internalErrors: unknown[] = [];
  const throwing = (): never => {
    throw new Error("handler bug");
  };
  const handlers: HostCallHandlers = {
    log: throwing,
    respond: throwing,
    respondWithFetchedBody: throwing,
    fail: throwing,
    waitUntilDone: throwing,
    fetchStart: throwing,
    fetchAbort: throwing,
    fetchBodyPull: throwing,
    fetchBodyCancel: throwing,
    timerStart: throwing,
    timerClear: throwing,
    digestStart: throwing,
    bodyChunk: throwing,
    requestBodyPull: throwing,
    requestBodyCancel: throwing,
    cryptoStart: throwing,
    cryptoSync: throwing,
  };
  const callbacks = createHostCallbacks(handlers, (error) => internalErrors.push(error));
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  try {
    const context = await isolate.createContext();
    await context.evalClosure(
      `globalThis.host = { ${HOST_FUNCTION_NAMES.map((name, i) => `${name}: $${i}`).join(", ")} };`,
      HOST_FUNCTION_NAMES.map((name) => callbacks[name]),
    );
    const result: unknown = await context.eval(
      `(() => {
        const calls = [
          () => host.randomBytes(65537), () => host.randomBytes(-1), () => host.randomBytes("16"), () => host.randomBytes(1.5),
          () => host.digest("constructor", new ArrayBuffer(1)), () => host.digest("__proto__", new ArrayBuffer(1)),
          () => host.digest("SHA-256", "text"), () => host.digest("SHA-256", new ArrayBuffer(65537)),
          () => host.randomBytes(4).byteLength, () => host.digest("SHA-1", new ArrayBuffer(0)).byteLength,
          () => host.cryptoSync("sign", "HMAC", 1, new ArrayBuffer(1), null),
          () => { host.log("log", "", "x"); host.fetchStart(1, "r", "GET", "u", [], null); host.digestStart(1, "r", "SHA-1", new ArrayBuffer(1)); return "ignored"; },
        ];
        return calls.map((call) => { try { return call(); } catch (error) { return "threw: " + error.stack; } });
      })()`,
      { copy: true },
    );
    t.deepEqual(result, ["quota", "bad_argument", "bad_argument", "bad_argument", "unsupported_algorithm", "unsupported_algorithm",
      "bad_argument", "too_large", 4, 20, "internal", "ignored"]);
  } finally {
    isolate.dispose();
  }
});
