import { request } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ExecutionContext } from "ava";
import { StaticAssets } from "../../runtime/front-end/static-assets.js";
import { HttpServer, singleHandler, type RequestHandler } from "../../runtime/http-server.js";
import type { LogLine } from "../../runtime/logger.js";

/** What the fallback app answers: its body names the request, so a test sees who answered. */
export const APP_MARKER = "x-from-app";

/** A file tree: path (relative, "/"-separated) to contents; `{ link }` makes a symlink to that target. */
export type Tree = Record<string, string | Buffer | { readonly link: string }>;

export function writeTree(root: string, tree: Tree): void {
  for (const [path, entry] of Object.entries(tree)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (typeof entry === "object" && !Buffer.isBuffer(entry)) symlinkSync(entry.link, full);
    else writeFileSync(full, entry);
  }
}

export interface AssetServer {
  readonly port: number;
  /** The temp dir holding `assets/` and whatever else the test wrote next to it. */
  readonly dir: string;
  readonly assetsDir: string;
  readonly logs: LogLine[];
}

/**
 * Fixture: write `outside` into a temp dir and `assets` into its `assets/`
 * subdirectory, serve that with an HttpServer on 127.0.0.1 port 0 whose
 * app answers `app <METHOD> <pathname>`, run `body`, and always close the
 * server and remove the dir.
 */
export async function withAssetServer<T>(
  t: ExecutionContext,
  trees: { readonly assets: Tree; readonly outside?: Tree },
  body: (server: AssetServer) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "edgehost-assets-"));
  const assetsDir = join(dir, "assets");
  mkdirSync(assetsDir);
  const logs: LogLine[] = [];
  let server: HttpServer | undefined;
  try {
    writeTree(dir, trees.outside ?? {});
    writeTree(assetsDir, trees.assets);
    const handler: RequestHandler = {
      appName: "app",
      assets: await StaticAssets.open(assetsDir),
      mapStack: (stack) => stack,
      fetch: async (request) => ({
        status: 200,
        statusText: "",
        headers: ["content-type", "text/plain", APP_MARKER, "1"],
        body: `app ${request.method} ${new URL(request.url).pathname}`,
      }),
    };
    server = new HttpServer({
      host: "127.0.0.1",
      port: 0,
      bodyLimitBytes: 1024 * 1024,
      dispatcher: singleHandler(handler),
      log: (line) => logs.push(line),
    });
    const port = await server.listen();
    return await body({ port, dir, assetsDir, logs });
  } catch (error) {
    t.log(JSON.stringify(logs));
    throw error;
  } finally {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/**
 * One request with node:http, which sends the path byte for byte (no dot
 * segment removal, no re-encoding), so traversal attempts reach the server
 * as written.
 */
export function send(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
