/**
 * Every app's routes and outbound allow patterns parsed, once, in one pass
 * over the raw input: syntax problems and routes claimed twice are reported
 * here (with the rest, even when other parts of the document are invalid),
 * and the parsed forms go into the resolved config.
 */
import { formatPath } from "./errors.js";
import { parseHostPattern, parseRoute, routeKey, type HostPattern, type Route } from "./host-pattern.js";
import type { PathIssue } from "./issues.js";
import { rawArray, rawObject, rawString } from "./raw-input.js";
import type { RawApps } from "./app-checks.js";
import { preview } from "./schema-helpers.js";

export interface ParsedPatterns {
  /** By app index; only for apps whose routes are all valid. */
  readonly routes: Map<number, Route[]>;
  /** By app index; only for apps with an `outbound.allow` that is all valid. */
  readonly allow: Map<number, HostPattern[]>;
  readonly issues: PathIssue[];
}

/**
 * Parse each string in `list` with `parse`; the problems as issues under
 * `parts`. Non-strings are left to the schema.
 */
function parseAll<T>(list: readonly unknown[], parts: ReadonlyArray<string | number>, what: string, parse: (text: string) => T | string, issues: PathIssue[]): T[] | undefined {
  const parsed: T[] = [];
  let valid = true;
  list.forEach((text, position) => {
    if (typeof text !== "string") {
      valid = false;
      return;
    }
    const result = parse(text);
    if (typeof result === "string") {
      issues.push({ parts: [...parts, position], message: `${preview(text)} is not ${what}: ${result}` });
      valid = false;
    } else parsed.push(result);
  });
  return valid ? parsed : undefined;
}

/**
 * A route whose host pattern and path prefix another route already has
 * (after normalising: `Example.com/api/` is `example.com/api`) is refused at
 * the later one. Overlaps are fine (`*.example.com` and `a.example.com`, `/`
 * and `/api`: the most specific wins); the same route twice has no winner.
 */
export function parsePatterns(apps: RawApps): ParsedPatterns {
  const result: ParsedPatterns = { routes: new Map(), allow: new Map(), issues: [] };
  const claims = new Map<string, { index: number; position: number; name: string | undefined }>();
  for (const { index, app } of apps) {
    const routeList = rawArray(app, "routes");
    if (routeList !== undefined) {
      const routes = parseAll(routeList, ["apps", index, "routes"], "a route", parseRoute, result.issues);
      if (routes !== undefined) result.routes.set(index, routes);
      routeList.forEach((pattern, position) => {
        if (typeof pattern !== "string") return;
        const route = routes?.[position] ?? parseRoute(pattern);
        if (typeof route === "string") return;
        const key = routeKey(route);
        const claim = claims.get(key);
        if (claim === undefined) {
          claims.set(key, { index, position, name: rawString(app, "name") });
          return;
        }
        const where = formatPath(["apps", claim.index, "routes", claim.position]);
        const message =
          claim.index === index
            ? `route ${preview(pattern)} is listed twice (also ${where})`
            : `route ${preview(pattern)} is already claimed by ${claim.name === undefined ? "another app" : `app ${preview(claim.name)}`} (${where})`;
        result.issues.push({ parts: ["apps", index, "routes", position], message });
      });
    }
    const outbound = rawObject(app, "outbound");
    const allowList = outbound === undefined ? undefined : rawArray(outbound, "allow");
    if (allowList !== undefined) {
      const allow = parseAll(allowList, ["apps", index, "outbound", "allow"], "a host pattern", parseHostPattern, result.issues);
      if (allow !== undefined) result.allow.set(index, allow);
    }
  }
  return result;
}
