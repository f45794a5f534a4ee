import type { ExecutionContext } from "ava";
import { startEdgehost, writeApp, type RunningEdgehost } from "./edgehost-process.js";

/**
 * Fixture: write `source` as app.ts (plus extra files) into a temp dir,
 * start `edgehost run` on it with `args` (and `env`, default this
 * process's), run `body`, and always stop the server and remove the
 * directory.
 */
export async function withApp<T>(
  t: ExecutionContext,
  files: string | Record<string, string>,
  args: readonly string[],
  body: (server: RunningEdgehost, dir: string) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const app = writeApp(typeof files === "string" ? { "app.ts": files } : files);
  let server: RunningEdgehost | undefined;
  try {
    server = await startEdgehost(app.entry, args, app.dir, env);
    return await body(server, app.dir);
  } catch (error) {
    if (server) t.log(server.output());
    throw error;
  } finally {
    await server?.stop();
    app.cleanup();
  }
}
