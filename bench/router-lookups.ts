import { Router, type RouteSpec } from "../runtime/front-end/router.js";

/**
 * Router lookups per second with 1 and with 10,000 configured apps, in this
 * process (no HTTP): the cost the front end pays per request to find the
 * app. Each app has an exact host, a wildcard and a path route, as in
 * `serve`'s sample config; the lookups cycle through every kind.
 * Run: `npm run build && node dist/bench/router-lookups.js [seconds]`.
 */

function routesFor(apps: number): Array<RouteSpec<number>> {
  const routes: Array<RouteSpec<number>> = [];
  for (let i = 0; i < apps; i++) {
    routes.push({ pattern: `app${i}.example.com`, target: i });
    routes.push({ pattern: `*.app${i}.example.com`, target: i });
    routes.push({ pattern: `tenants.example.com/t${i}/`, target: i });
  }
  return routes;
}

/** Requests spread over the apps: [host, path] pairs, built before timing. */
function requestsFor(apps: number): Array<readonly [string, string]> {
  const requests: Array<readonly [string, string]> = [];
  for (let n = 0; n < 3000; n++) {
    const i = (n * 7919) % apps;
    if (n % 3 === 0) requests.push([`app${i}.example.com`, "/products/42"]);
    else if (n % 3 === 1) requests.push([`www.app${i}.example.com:8787`, "/"]);
    else requests.push(["tenants.example.com", `/t${i}/api/items`]);
  }
  return requests;
}

function measure(apps: number, seconds: number): number {
  const router = Router.build(routesFor(apps));
  const requests = requestsFor(apps);
  let lookups = 0;
  let misses = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    for (const [host, path] of requests) if (router.match(host, path) === undefined) misses++;
    lookups += requests.length;
  }
  if (misses > 0) throw new Error(`${misses} lookups found no route`);
  return lookups / ((performance.now() - started) / 1000);
}

const seconds = Number(process.argv[2] ?? 2);
// Warm up both shapes first so neither run pays for optimisation alone.
measure(1, 0.5);
measure(10_000, 0.5);
for (const apps of [1, 10_000, 1, 10_000]) {
  console.log(`${apps} apps: ${Math.round(measure(apps, seconds)).toLocaleString("en-US")} lookups/s`);
}
