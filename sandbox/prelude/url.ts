/**
 * URL and URLSearchParams from whatwg-url, loaded on first use. whatwg-url
 * pulls in tr46 and its Unicode mapping table, which is most of the prelude's
 * size: evaluating it at boot would cost every isolate, so the module factory
 * runs only when tenant code first touches URL/URLSearchParams or the prelude
 * has to parse a URL (Request constructor, Response.redirect, fetch).
 */
import type * as Wrapper from "whatwg-url/webidl2js-wrapper";
import { lazyGlobalDescriptor } from "./lazy-global.js";

/** The URL class as tenants see it. */
export interface URLInstance {
  href: string;
  readonly origin: string;
  readonly searchParams: URLSearchParamsInstance;
  toString(): string;
}

/** The URLSearchParams class as tenants see it. */
export interface URLSearchParamsInstance {
  toString(): string;
  append(name: string, value: string): void;
  [Symbol.iterator](): Iterator<[string, string]>;
}

interface UrlClasses {
  URL: new (url: string, base?: string) => URLInstance;
  URLSearchParams: new (init?: unknown) => URLSearchParamsInstance;
}

// esbuild turns this require into a call of the bundled module's lazy
// factory; the TypeScript declaration only gives it a type.
declare function require(id: "whatwg-url/webidl2js-wrapper"): typeof Wrapper;

// whatwg-url's generated classes read these from the object they are
// installed on; capture them now, before tenant code can replace the globals.
const INTRINSICS = { Array, Object, Promise, String, TypeError };

let loaded: UrlClasses | null = null;

/** The URL classes, evaluating whatwg-url on the first call. */
export function urlClasses(): UrlClasses {
  if (loaded === null) {
    const wrapper = require("whatwg-url/webidl2js-wrapper");
    const target: Record<string, unknown> = { ...INTRINSICS };
    wrapper.URL.install(target, ["Window"]);
    wrapper.URLSearchParams.install(target, ["Window"]);
    loaded = { URL: target["URL"] as UrlClasses["URL"], URLSearchParams: target["URLSearchParams"] as UrlClasses["URLSearchParams"] };
    // The bundle is minified: give the classes their public names back.
    Object.defineProperty(loaded.URL, "name", { value: "URL", configurable: true });
    Object.defineProperty(loaded.URLSearchParams, "name", { value: "URLSearchParams", configurable: true });
  }
  return loaded;
}

/** True if `value` is a URLSearchParams (without loading whatwg-url when nobody has). */
export function isURLSearchParams(value: unknown): value is URLSearchParamsInstance {
  return loaded !== null && value instanceof loaded.URLSearchParams;
}

/** The serialised absolute URL, or a TypeError naming the input. */
export function parseAbsoluteUrl(input: string, base?: string): string {
  const { URL } = urlClasses();
  try {
    return base === undefined ? new URL(input).href : new URL(input, base).href;
  } catch {
    throw new TypeError(`Invalid URL: ${input}`);
  }
}

/** Defines URL and URLSearchParams on `target` as globals that load whatwg-url when first read (lazy-global.ts). */
export function installLazyUrlGlobals(target: object): void {
  for (const name of ["URL", "URLSearchParams"] as const) {
    Object.defineProperty(target, name, lazyGlobalDescriptor(target, name, () => urlClasses()[name]));
  }
}
