import { RuntimeError } from "../errors.js";
import { parseRoutePattern, type RoutePattern } from "./route-pattern.js";

/** One route as configured: a pattern (see route-pattern.ts) and what requests matching it go to. */
export interface RouteSpec<T> {
  readonly pattern: string;
  readonly target: T;
}

/** What a request matched. The same frozen object for every request on a route: nothing is allocated to answer. */
export interface RouteMatch<T> {
  readonly target: T;
  /** The matched path prefix; "/" for a route that takes every path of its host. */
  readonly prefix: string;
  /** The pattern as configured, for logs. */
  readonly pattern: string;
}

/** The routes of one host (or one wildcard suffix, or the any-host catch-all). */
interface HostRoutes<T> {
  /** The route with no path prefix. */
  whole: RouteMatch<T> | undefined;
  /** Routes by exact prefix text; undefined while the host has none. */
  prefixes: Map<string, RouteMatch<T>> | undefined;
  /** Length of the longest key of `prefixes`: no longer candidate need be looked up. */
  longestPrefix: number;
}

/**
 * Host and path-prefix routing, built once from the configured routes and
 * replaced whole on reload (build a new Router; the old one keeps answering
 * requests already routed by it). Most specific wins, in this order:
 *
 * 1. the host: an exact name, then wildcards from the longest suffix to the
 *    shortest, then the `*` catch-all. A less specific host is tried only
 *    when no route of the more specific one takes the path;
 * 2. within a host: the longest matching path prefix, then the host's route
 *    without a prefix.
 *
 * A prefix ending in "/" (`/api/`) matches every path that starts with it
 * (`/api/`, `/api/x`, not `/api`). One that does not (`/api`) matches at
 * segment boundaries only: `/api`, `/api/`, `/api/x`, but never `/apix`.
 * Prefixes are compared with the request's pathname as the app sees it
 * (case-sensitive, percent-encoding not decoded).
 *
 * A lookup costs a few Map lookups per host label and per `/` in the path
 * (up to the longest prefix of that host), whatever the number of routes.
 */
export class Router<T> {
  readonly #exact = new Map<string, HostRoutes<T>>();
  /** Keyed by the suffix after `*.`. */
  readonly #wildcards = new Map<string, HostRoutes<T>>();
  #any: HostRoutes<T> | undefined;
  #size = 0;

  private constructor() {}

  /**
   * A router for `routes`. Throws RuntimeError `EDGE_RUNTIME_BAD_ROUTE`
   * listing every pattern that does not parse, else
   * `EDGE_RUNTIME_ROUTE_CONFLICT` listing every host and prefix claimed by
   * two different targets. The same route listed twice for the same target
   * (compared with Object.is) is kept once.
   */
  static build<T>(routes: ReadonlyArray<RouteSpec<T>>): Router<T> {
    const router = new Router<T>();
    const invalid: string[] = [];
    const conflicts: string[] = [];
    for (const route of routes) {
      const parsed = parseRoutePattern(route.pattern);
      if (!parsed.ok) {
        invalid.push(`"${route.pattern}": ${parsed.reason}`);
        continue;
      }
      const clash = router.#add(parsed.pattern, route);
      if (clash !== undefined) conflicts.push(`"${route.pattern}" and "${clash.pattern}" name the same host and path for different targets`);
    }
    if (invalid.length > 0) throw new RuntimeError("EDGE_RUNTIME_BAD_ROUTE", `invalid routes: ${invalid.join("; ")}`);
    if (conflicts.length > 0) throw new RuntimeError("EDGE_RUNTIME_ROUTE_CONFLICT", `conflicting routes: ${conflicts.join("; ")}`);
    return router;
  }

  /** Distinct routes held. */
  get size(): number {
    return this.#size;
  }

  /**
   * The route for a request, or undefined when none takes it (404).
   * `host` is the canonical Host header (canonicalHost: lower-case, maybe
   * with a port, which is ignored, as is a trailing dot); `path` the
   * request's pathname.
   */
  match(host: string, path: string): RouteMatch<T> | undefined {
    const name = hostName(host);
    const exact = this.#exact.get(name);
    if (exact !== undefined) {
      const found = matchPath(exact, path);
      if (found !== undefined) return found;
    }
    if (this.#wildcards.size > 0) {
      // Suffixes from the longest down; the name itself is not one (`*.a.b` does not take `a.b`).
      for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) {
        const routes = this.#wildcards.get(name.slice(dot + 1));
        if (routes === undefined) continue;
        const found = matchPath(routes, path);
        if (found !== undefined) return found;
      }
    }
    return this.#any === undefined ? undefined : matchPath(this.#any, path);
  }

  /** Add one route; returns the route already holding its place for another target, if any. */
  #add(pattern: RoutePattern, route: RouteSpec<T>): RouteMatch<T> | undefined {
    const routes = this.#routesFor(pattern);
    const existing = pattern.prefix === "" ? routes.whole : routes.prefixes?.get(pattern.prefix);
    if (existing !== undefined) return Object.is(existing.target, route.target) ? undefined : existing;
    const match: RouteMatch<T> = Object.freeze({ target: route.target, prefix: pattern.prefix === "" ? "/" : pattern.prefix, pattern: route.pattern });
    if (pattern.prefix === "") {
      routes.whole = match;
    } else {
      (routes.prefixes ??= new Map()).set(pattern.prefix, match);
      routes.longestPrefix = Math.max(routes.longestPrefix, pattern.prefix.length);
    }
    this.#size++;
    return undefined;
  }

  #routesFor(pattern: RoutePattern): HostRoutes<T> {
    if (pattern.kind === "any") return (this.#any ??= emptyRoutes());
    const map = pattern.kind === "exact" ? this.#exact : this.#wildcards;
    let routes = map.get(pattern.host);
    if (routes === undefined) {
      routes = emptyRoutes();
      map.set(pattern.host, routes);
    }
    return routes;
  }
}

function emptyRoutes<T>(): HostRoutes<T> {
  return { whole: undefined, prefixes: undefined, longestPrefix: 0 };
}

/** The longest prefix route of `routes` that takes `path`, else its whole-host route. */
function matchPath<T>(routes: HostRoutes<T>, path: string): RouteMatch<T> | undefined {
  const { prefixes, longestPrefix } = routes;
  if (prefixes === undefined) return routes.whole;
  const length = path.length;
  // The candidates are the prefixes of `path` that end where a prefix may
  // end: at the end of the path, just after a "/" (a prefix ending in "/"),
  // or just before one (a segment boundary). Walked from the longest down.
  if (length <= longestPrefix) {
    const found = prefixes.get(path);
    if (found !== undefined) return found;
  }
  for (let slash = path.lastIndexOf("/", longestPrefix); slash >= 0; slash = slash > 0 ? path.lastIndexOf("/", slash - 1) : -1) {
    if (slash + 1 < length && slash + 1 <= longestPrefix) {
      const found = prefixes.get(path.slice(0, slash + 1));
      if (found !== undefined) return found;
    }
    if (slash > 0) {
      const found = prefixes.get(path.slice(0, slash));
      if (found !== undefined) return found;
    }
  }
  return routes.whole;
}

/** `host` without its port and trailing dot; IPv6 literals keep their brackets. */
function hostName(host: string): string {
  const colon = host.startsWith("[") ? host.indexOf(":", host.indexOf("]")) : host.indexOf(":");
  const name = colon < 0 ? host : host.slice(0, colon);
  return name.endsWith(".") ? name.slice(0, -1) : name;
}
