import test from "ava";
import { isRuntimeError } from "../runtime/errors.js";
import { Router, type RouteSpec } from "../runtime/front-end/router.js";

/** A router whose targets are the patterns' names, and a lookup that returns the name (or "none"). */
function routerOf(routes: Record<string, string>): (host: string, path: string) => string {
  const router = Router.build(Object.entries(routes).map(([pattern, target]) => ({ pattern, target })));
  return (host, path) => router.match(host, path)?.target ?? "none";
}

test("router: an exact host takes every path of that host and no other host", (t) => {
  const route = routerOf({ "shop.example.com": "shop" });
  t.is(route("shop.example.com", "/"), "shop");
  t.is(route("shop.example.com", "/a/b?c"), "shop");
  t.is(route("example.com", "/"), "none");
  t.is(route("a.shop.example.com", "/"), "none");
  t.is(route("shop.example.com.evil", "/"), "none");
});

test("router: patterns are case-insensitive in the host, ports and a trailing dot are ignored", (t) => {
  const route = routerOf({ "Shop.EXAMPLE.com": "shop", "[::1]": "v6" });
  t.is(route("shop.example.com:8787", "/"), "shop");
  t.is(route("shop.example.com.", "/"), "shop");
  t.is(route("shop.example.com.:8080", "/"), "shop");
  t.is(route("[::1]:8787", "/"), "v6");
  t.is(route("[::1]", "/"), "v6");
});

test("router: *.host takes subdomains at any depth but not the apex", (t) => {
  const route = routerOf({ "*.example.com": "wild" });
  t.is(route("a.example.com", "/"), "wild");
  t.is(route("a.b.c.example.com:443", "/x"), "wild");
  t.is(route("example.com", "/"), "none");
  t.is(route("badexample.com", "/"), "none");
  t.is(route("example.com.org", "/"), "none");
});

test("router: an exact host wins over a wildcard, a longer wildcard suffix over a shorter, any wildcard over *", (t) => {
  const route = routerOf({
    "*": "any",
    "*.example.com": "wide",
    "*.shop.example.com": "narrow",
    "shop.example.com": "apex",
    "x.shop.example.com": "exact",
  });
  t.is(route("x.shop.example.com", "/"), "exact");
  t.is(route("y.shop.example.com", "/"), "narrow");
  t.is(route("y.x.shop.example.com", "/"), "narrow");
  t.is(route("shop.example.com", "/"), "apex");
  t.is(route("blog.example.com", "/"), "wide");
  t.is(route("example.com", "/"), "any");
  t.is(route("other.test", "/"), "any");
});

test("router: the longest path prefix wins, then the host's route without a prefix", (t) => {
  const route = routerOf({ "example.com": "site", "example.com/api/": "api", "example.com/api/v2/": "v2" });
  t.is(route("example.com", "/api/v2/users"), "v2");
  t.is(route("example.com", "/api/v2/"), "v2");
  t.is(route("example.com", "/api/v2"), "api");
  t.is(route("example.com", "/api/v1/users"), "api");
  t.is(route("example.com", "/api/"), "api");
  t.is(route("example.com", "/api"), "site");
  t.is(route("example.com", "/"), "site");
});

test("router: a prefix without a trailing slash matches at segment boundaries only", (t) => {
  const route = routerOf({ "example.com/api": "api", "example.com/a": "a" });
  t.is(route("example.com", "/api"), "api");
  t.is(route("example.com", "/api/"), "api");
  t.is(route("example.com", "/api/x/y"), "api");
  t.is(route("example.com", "/apix"), "none");
  t.is(route("example.com", "/api.json"), "none");
  t.is(route("example.com", "/a/pi"), "a");
  t.is(route("example.com", "/ab"), "none");
  t.is(route("example.com", "/"), "none");
});

test("router: prefixes are case-sensitive and compared with the pathname as sent", (t) => {
  const route = routerOf({ "example.com/API/": "api", "example.com/v1.0/": "v1", "example.com/~me/a%20b": "me" });
  t.is(route("example.com", "/v1.0/items"), "v1");
  t.is(route("example.com", "/~me/a%20b/c"), "me");
  t.is(route("example.com", "/~me/a b/c"), "none");
  t.is(route("example.com", "/API/x"), "api");
  t.is(route("example.com", "/api/x"), "none");
  t.is(route("example.com", "/%41PI/x"), "none");
});

test("router: a host whose prefixes do not take the path falls through to the next host level", (t) => {
  const route = routerOf({ "a.example.com/api/": "a-api", "*.example.com": "wild", "*/health": "health" });
  t.is(route("a.example.com", "/api/x"), "a-api");
  t.is(route("a.example.com", "/other"), "wild");
  t.is(route("a.other.test", "/health"), "health");
  t.is(route("a.other.test", "/healthz"), "none");
});

test("router: * and */ are the same catch-all, and match result carries the prefix and pattern", (t) => {
  const router = Router.build([
    { pattern: "*", target: 1 },
    { pattern: "*/", target: 1 },
    { pattern: "example.com/api/", target: 2 },
  ]);
  t.is(router.size, 2);
  t.deepEqual(router.match("anything.test:1", "/x"), { target: 1, prefix: "/", pattern: "*" });
  t.deepEqual(router.match("example.com", "/api/x"), { target: 2, prefix: "/api/", pattern: "example.com/api/" });
  t.is(router.match("example.com", "/api/x"), router.match("example.com", "/api/y"), "no allocation per match");
});

test("router: no routes match nothing", (t) => {
  t.is(Router.build([]).match("example.com", "/"), undefined);
});

test("router: duplicate routes for different targets are one error listing every conflict", (t) => {
  const error = t.throws(() =>
    Router.build([
      { pattern: "example.com", target: "a" },
      { pattern: "EXAMPLE.com/", target: "b" },
      { pattern: "*.x.test/api/", target: "a" },
      { pattern: "*.x.test/api/", target: "c" },
    ]),
  );
  t.true(isRuntimeError(error, "EDGE_RUNTIME_ROUTE_CONFLICT"));
  t.regex(error.message, /"EXAMPLE\.com\/" and "example\.com"/);
  t.regex(error.message, /"\*\.x\.test\/api\/" and "\*\.x\.test\/api\/"/);
});

test("router: the same route twice for the same target is kept once", (t) => {
  const target = { name: "shop" };
  const router = Router.build([
    { pattern: "shop.test", target },
    { pattern: "shop.test/", target },
  ]);
  t.is(router.size, 1);
  t.is(router.match("shop.test", "/")?.target, target);
});

test("router: routes that differ only in the wildcard or the prefix do not conflict", (t) => {
  const router = Router.build([
    { pattern: "example.com", target: "a" },
    { pattern: "*.example.com", target: "b" },
    { pattern: "example.com/api", target: "c" },
    { pattern: "example.com/api/", target: "d" },
  ]);
  t.is(router.size, 4);
  t.is(router.match("example.com", "/api")?.target, "c");
  t.is(router.match("example.com", "/api/x")?.target, "d");
});

test("router: invalid patterns are one error listing each with its reason", (t) => {
  const patterns = [
    "",
    "example.com:8080",
    "foo*.example.com",
    "a.*.example.com",
    "**.example.com",
    "example.com/api/*",
    "example.com/a b",
    "example.com/a?b",
    "example.com/../admin",
    "example.com/a/%2e/b",
    "exa mple.com",
    "0x7f.1",
    "/api/",
  ];
  const error = t.throws(() => Router.build(patterns.map((pattern) => ({ pattern, target: 0 }))));
  t.true(isRuntimeError(error, "EDGE_RUNTIME_BAD_ROUTE"));
  for (const pattern of patterns) t.true(error.message.includes(`"${pattern}": `), pattern);
  t.true(error.message.includes('"example.com/api/*": a path is a prefix already'));
  t.true(error.message.includes('"example.com:8080": a route names no port'));
});

test("router: bad patterns are reported before conflicts", (t) => {
  const error = t.throws(() =>
    Router.build([
      { pattern: "a.test", target: 1 },
      { pattern: "a.test", target: 2 },
      { pattern: "a.test:1", target: 3 },
    ]),
  );
  t.true(isRuntimeError(error, "EDGE_RUNTIME_BAD_ROUTE"));
});

test("router: 10,000 apps each with a host, a wildcard and a path route all match their own target", (t) => {
  const apps = 10_000;
  const routes: Array<RouteSpec<number>> = [];
  for (let i = 0; i < apps; i++) {
    routes.push({ pattern: `app${i}.example.com`, target: i });
    routes.push({ pattern: `*.app${i}.example.com`, target: i });
    routes.push({ pattern: `tenants.example.com/t${i}/`, target: i });
  }
  routes.push({ pattern: "*.example.com", target: -1 });
  const router = Router.build(routes);
  t.is(router.size, 3 * apps + 1);
  for (let i = 0; i < apps; i++) {
    const seen = [
      router.match(`app${i}.example.com`, "/"),
      router.match(`deep.sub.app${i}.example.com:8787`, "/x"),
      router.match("tenants.example.com", `/t${i}/x/y`),
    ].map((match) => match?.target);
    if (seen.some((target) => target !== i)) t.fail(`app ${i}: ${JSON.stringify(seen)}`);
  }
  t.is(router.match("tenants.example.com", "/t10000/")?.target, -1);
  t.is(router.match("tenants.example.com", "/t1")?.target, -1);
  t.is(router.match("app10000.example.com", "/")?.target, -1);
  t.is(router.match("example.com", "/"), undefined);
});
