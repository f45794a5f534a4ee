import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as UwsTypes from "uWebSockets.js";
import { RuntimeError } from "./errors.js";

export type Uws = typeof UwsTypes;
export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from "uWebSockets.js";

let loaded: Uws | undefined;

/**
 * Load uWebSockets.js's native binary for this Node ABI directly. The
 * package's own entry silently falls back to a slow pure-JS implementation
 * when the binary does not load; a server that quietly runs on the fallback
 * is worse than one that refuses to start, so we bypass the entry and fail.
 */
export function loadUws(): Uws {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve("uWebSockets.js/package.json"));
  const binary = join(
    packageDir,
    "binaries",
    `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
  );
  let native: Uws;
  try {
    native = require(binary) as Uws;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new RuntimeError(
      "EDGE_RUNTIME_UWS_NOT_NATIVE",
      `uWebSockets.js native binary did not load (${binary}): ${reason}`,
    );
  }
  if (typeof native.App !== "function" || typeof native.us_listen_socket_close !== "function") {
    throw new RuntimeError("EDGE_RUNTIME_UWS_NOT_NATIVE", `uWebSockets.js binary ${binary} does not export App`);
  }
  loaded = native;
  return native;
}
