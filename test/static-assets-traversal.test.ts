import { symlinkSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { StaticAssets } from "../runtime/front-end/static-assets.js";
import { send, withAssetServer, type Tree } from "./helpers/with-asset-server.js";

const SECRET = "TOP SECRET: outside the assets dir";
const DOTFILE = "DOTFILE: never served";

/** Next to the assets dir, and links from inside it to there. */
const OUTSIDE: Tree = { "secret.txt": SECRET, "assets-evil/x.txt": SECRET };
const ASSETS: Tree = {
  "index.html": "<h1>home</h1>",
  "docs/index.html": "<h1>docs</h1>",
  "link-out": { link: "../secret.txt" },
  "dir-out": { link: ".." },
  "link-in.css": { link: "docs/index.html" },
  ".env": DOTFILE,
  ".git/config": DOTFILE,
  "docs/.hidden": DOTFILE,
  "link-to-dotfile": { link: ".env" },
  "dir-to-dotdir": { link: ".git" },
  ".well-known/security.txt": "Contact: mailto:security@example.com",
  ".well-known/.secret": DOTFILE,
  "%2e%2e/literal.txt": "a file in a directory literally named %2e%2e",
};

/**
 * Every path a client might use to climb out of the assets dir or reach a
 * dotfile, sent byte for byte, and what must answer it: the app (the file
 * is not served) or the front end's 400 for a target it refuses outright.
 */
const ATTEMPTS: ReadonlyArray<readonly [string, "app" | 400]> = [
  ["/../secret.txt", "app"],
  ["/docs/../../secret.txt", "app"],
  ["/%2e%2e/secret.txt", "app"],
  ["/%2E%2E/secret.txt", "app"],
  ["/.%2e/secret.txt", "app"],
  ["/%2e./secret.txt", "app"],
  ["/..%2fsecret.txt", "app"],
  ["/..%2Fsecret.txt", "app"],
  ["/%2e%2e%2fsecret.txt", "app"],
  ["/docs/..%2f..%2fsecret.txt", "app"],
  ["/..%5csecret.txt", "app"],
  ["/..%5Csecret.txt", "app"],
  ["/%2e%2e%5csecret.txt", "app"],
  ["/..\\secret.txt", 400],
  ["/%252e%252e/secret.txt", "app"],
  ["/%252e%252e%252fsecret.txt", "app"],
  ["/%25252e%25252e/secret.txt", "app"],
  ["/secret.txt%00", "app"],
  ["/link-out%00.html", "app"],
  ["/%00/../secret.txt", "app"],
  ["/link-out", "app"],
  ["/dir-out/secret.txt", "app"],
  ["/dir-out/assets-evil/x.txt", "app"],
  ["/abs-out", "app"],
  ["//secret.txt", "app"],
  ["/.env", "app"],
  ["/%2eenv", "app"],
  ["/.git/config", "app"],
  ["/docs/.hidden", "app"],
  ["/link-to-dotfile", "app"],
  ["/dir-to-dotdir/config", "app"],
  ["/.well-known/.secret", "app"],
  ["/.well-known", "app"],
];

test("static assets: no traversal variant, dotfile or symlink out of the dir is served", async (t) => {
  await withAssetServer(t, { assets: ASSETS, outside: OUTSIDE }, async ({ port, dir, assetsDir }) => {
    symlinkSync(join(dir, "secret.txt"), join(assetsDir, "abs-out"));
    for (const [path, expected] of ATTEMPTS) {
      const reply = await send(port, path);
      const body = reply.body.toString();
      t.false(body.includes("SECRET") || body.includes("DOTFILE"), `${path} served ${JSON.stringify(body)}`);
      if (expected === 400) t.is(reply.status, 400, path);
      else t.regex(body, /^app GET \//, path);
    }
  });
});

test("static assets: symlinks that stay inside, .well-known and a literal %2e%2e name are served", async (t) => {
  await withAssetServer(t, { assets: ASSETS, outside: OUTSIDE }, async ({ port }) => {
    const inside = await send(port, "/link-in.css");
    t.is(inside.status, 200);
    t.is(inside.body.toString(), "<h1>docs</h1>");
    t.is(inside.headers["content-type"], "text/css; charset=utf-8", "typed by the name asked for");
    t.is((await send(port, "/.well-known/security.txt")).body.toString(), "Contact: mailto:security@example.com");
    t.is((await send(port, "/dir-out/assets/index.html")).body.toString(), "<h1>home</h1>", "out and back in is inside");
    t.is((await send(port, "/%252e%252e/literal.txt")).body.toString(), "a file in a directory literally named %2e%2e");
  });
});

test("static assets: lookup refuses raw dot segments and encoded separators itself, before any URL normalisation", async (t) => {
  await withAssetServer(t, { assets: ASSETS, outside: OUTSIDE }, async ({ assetsDir }) => {
    const assets = await StaticAssets.open(assetsDir);
    const raw = [
      "/../secret.txt",
      "/docs/../../secret.txt",
      "/./../secret.txt",
      "/%2e%2e/secret.txt",
      "/docs/%2e%2e/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/..\\secret.txt",
      "/..%5csecret.txt",
      "/secret.txt\0",
      "/./index.html",
      "/docs/./index.html",
      "/docs/../index.html",
      "/%ff",
      "/%",
      "no-leading-slash",
      "",
    ];
    for (const path of raw) t.is(await assets.lookup("GET", path, []), undefined, JSON.stringify(path));
    const served = await assets.lookup("GET", "/docs/index.html", []);
    t.is(served?.status, 200);
    served?.body?.cancel();
  });
});

test("static assets: an assets dir that is a symlink is served through its real path", async (t) => {
  await withAssetServer(t, { assets: ASSETS, outside: { ...OUTSIDE, "linked-assets": { link: "assets" } } }, async ({ dir }) => {
    const assets = await StaticAssets.open(join(dir, "linked-assets"));
    t.is(assets.root, join(dir, "assets"));
    t.is(await assets.lookup("GET", "/link-out", []), undefined);
    const home = await assets.lookup("GET", "/", []);
    t.is(home?.status, 200);
    home?.body?.cancel();
  });
});

test("static assets: opening a missing dir or a file as the assets dir is EDGE_RUNTIME_BAD_ASSETS_DIR", async (t) => {
  await withAssetServer(t, { assets: ASSETS, outside: OUTSIDE }, async ({ dir }) => {
    for (const path of [join(dir, "nope"), join(dir, "secret.txt")]) {
      const error = await t.throwsAsync(StaticAssets.open(path));
      t.is((error as Error & { code?: string }).code, "EDGE_RUNTIME_BAD_ASSETS_DIR", path);
    }
  });
});
