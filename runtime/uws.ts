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

/**
 * Send every request of `app` to `onRequest`. Anything it throws is logged
 * (as `label: ...`) and answered 500, never left to unwind into uWS's C++.
 */
export function serveAll(
  app: UwsTypes.TemplatedApp,
  label: string,
  log: (line: { level: "error"; message: string }) => void,
  onRequest: (res: UwsTypes.HttpResponse, req: UwsTypes.HttpRequest) => void,
): void {
  app.any("/*", (res, req) => {
    try {
      onRequest(res, req);
    } catch (error) {
      log({ level: "error", message: `${label}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
      try {
        res.cork(() => res.writeStatus("500 Internal Server Error").end());
      } catch {
        // The response was already ended or aborted; nothing more to do.
      }
    }
  });
}

/** Listen on host:port; resolves with the socket and the bound port. Rejects RuntimeError(PORT_IN_USE) naming `what`. */
export function listenOn(
  uws: Uws,
  app: UwsTypes.TemplatedApp,
  host: string,
  port: number,
  what: string,
): Promise<{ socket: UwsTypes.us_listen_socket; port: number }> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (!socket) {
        reject(new RuntimeError("EDGE_RUNTIME_PORT_IN_USE", `cannot listen${what} on ${host}:${port}: address in use or not available`));
        return;
      }
      resolve({ socket, port: uws.us_socket_local_port(socket) });
    });
  });
}
