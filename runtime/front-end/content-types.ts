/** What files with no known extension are sent as (with `nosniff`, so browsers do not guess). */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

const UTF8 = "; charset=utf-8";

/**
 * Content types by lower-case file extension: the common web types. Text
 * types carry `charset=utf-8`, since a browser otherwise guesses (and
 * guesses windows-1252 for HTML without a meta tag). JavaScript is
 * `text/javascript` (RFC 9239); wasm must be `application/wasm` for
 * `WebAssembly.instantiateStreaming`.
 */
const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ["html", `text/html${UTF8}`],
  ["htm", `text/html${UTF8}`],
  ["css", `text/css${UTF8}`],
  ["js", `text/javascript${UTF8}`],
  ["mjs", `text/javascript${UTF8}`],
  ["json", `application/json${UTF8}`],
  ["map", `application/json${UTF8}`],
  ["txt", `text/plain${UTF8}`],
  ["csv", `text/csv${UTF8}`],
  ["md", `text/markdown${UTF8}`],
  ["xml", `application/xml${UTF8}`],
  ["svg", `image/svg+xml${UTF8}`],
  ["webmanifest", `application/manifest+json${UTF8}`],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
  ["avif", "image/avif"],
  ["ico", "image/x-icon"],
  ["woff", "font/woff"],
  ["woff2", "font/woff2"],
  ["ttf", "font/ttf"],
  ["otf", "font/otf"],
  ["wasm", "application/wasm"],
  ["pdf", "application/pdf"],
  ["zip", "application/zip"],
  ["mp3", "audio/mpeg"],
  ["mp4", "video/mp4"],
  ["webm", "video/webm"],
]);

/** The Content-Type for a file name, by its last extension (case-insensitive); DEFAULT_CONTENT_TYPE when unknown. */
export function contentTypeFor(fileName: string): string {
  const dot = fileName.lastIndexOf(".");
  if (dot < 0) return DEFAULT_CONTENT_TYPE;
  return CONTENT_TYPES.get(fileName.slice(dot + 1).toLowerCase()) ?? DEFAULT_CONTENT_TYPE;
}
