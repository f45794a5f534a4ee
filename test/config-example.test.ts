import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { loadServeConfig } from "../runtime/config/index.js";

/** examples/serve in the source tree (tests run from dist/test). */
const EXAMPLE_DIR = fileURLToPath(new URL("../../examples/serve/", import.meta.url));

test("config example: examples/serve/edgehost.json loads, files checked", (t) => {
  const config = loadServeConfig(path.join(EXAMPLE_DIR, "edgehost.json"), { env: {} });
  t.deepEqual(
    config.apps.map((app) => [app.name, app.routes.map((route) => route.pattern)]),
    [
      ["hello", ["hello.localhost", "localhost/hello"]],
      ["site", ["site.localhost", "localhost"]],
      ["tenants", ["*.tenants.localhost"]],
    ],
  );
  const [hello, site, tenants] = config.apps;
  t.deepEqual(hello?.outbound.allow, []);
  t.is(site?.assets, path.join(EXAMPLE_DIR, "apps/site/public"));
  t.is(site?.limits.memoryMb, 64);
  t.is(tenants?.secrets.API_KEY?.reveal(), "example-not-a-real-key");
  t.is(tenants?.limits.concurrency, 8);
  t.is(config.dataDir, path.join(EXAMPLE_DIR, ".edgehost"));
  // Loopback admin listener without EDGEHOST_ADMIN_TOKEN: loads, no token.
  t.is(config.admin?.token, undefined);
});
