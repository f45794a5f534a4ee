import { SourceMap } from "node:module";
import type { SourceMapPayload } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_FILENAME } from "./app-bundle.js";
import { displayPath } from "./format-build-messages.js";

const INLINE_MAP_PREFIX = "//# sourceMappingURL=data:application/json;base64,";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * `app.js:LINE:COL`, not preceded by a path or name character, so `myapp.js`
 * and `/srv/app.js` (some other file) are left alone.
 */
const POSITION_PATTERN = new RegExp(`(?<![\\w./\\\\-])${escapeRegExp(BUNDLE_FILENAME)}:(\\d+):(\\d+)`, "g");

/** The inline source map of a bundle, or null when it has none (or it is unreadable). */
function readInlineSourceMap(code: string): SourceMap | null {
  const start = code.lastIndexOf(INLINE_MAP_PREFIX);
  if (start === -1) return null;
  const end = code.indexOf("\n", start);
  const base64 = code.slice(start + INLINE_MAP_PREFIX.length, end === -1 ? undefined : end).trim();
  try {
    const payload = JSON.parse(Buffer.from(base64, "base64").toString("utf8")) as SourceMapPayload;
    return new SourceMap(payload);
  } catch {
    return null;
  }
}

/**
 * Builds the `mapStack` function of a bundle.
 *
 * @param code the bundle, with an inline source map as esbuild writes it
 * @param sourcesDir directory the map's `sources` are relative to (esbuild's `absWorkingDir`)
 * @param displayDir directory mapped paths are shown relative to (the entry's directory)
 * @returns a function rewriting every `app.js:LINE:COL` (1-based, as V8 prints
 *   them) to `<source>:LINE:COL`; positions without a mapping on their own
 *   generated line are left as they are. The map is parsed on the first call.
 */
export function createStackMapper(code: string, sourcesDir: string, displayDir: string): (stack: string) => string {
  let sourceMap: SourceMap | null | undefined;
  return (stack: string): string => {
    if (sourceMap === undefined) sourceMap = readInlineSourceMap(code);
    const map = sourceMap;
    if (map === null) return stack;
    // esbuild omits sourceRoot although the type says it is always there.
    const sourceRoot = path.resolve(sourcesDir, (map.payload.sourceRoot) ?? "");
    return stack.replace(POSITION_PATTERN, (whole: string, line: string, column: string) => {
      const lineOffset = Number(line) - 1;
      const entry = map.findEntry(lineOffset, Number(column) - 1);
      // findEntry falls back to the nearest earlier mapping, possibly on an
      // earlier line (esbuild's own helpers have none): that would point at
      // unrelated source, so only same-line mappings count.
      if (!("originalSource" in entry) || entry.generatedLine !== lineOffset) return whole;
      const original = entry.originalSource.startsWith("file://")
        ? fileURLToPath(entry.originalSource)
        : path.resolve(sourceRoot, entry.originalSource);
      const source = displayPath(original, displayDir);
      return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    });
  };
}
