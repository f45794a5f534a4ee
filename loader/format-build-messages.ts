import path from "node:path";
import type { Message } from "esbuild";

/**
 * A path for a message: relative to `baseDir` when the file is inside it
 * (what a person typing commands there expects), absolute otherwise, since a
 * chain of `../` says less than the full path. Always with forward slashes.
 */
export function displayPath(file: string, baseDir: string): string {
  const relative = path.relative(baseDir, file);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return file;
  return relative.split(path.sep).join("/");
}

/** esbuild columns count UTF-8 bytes; people and V8 count characters. */
function characterColumn(lineText: string, byteColumn: number): number {
  const bytes = Buffer.from(lineText, "utf8");
  if (byteColumn >= bytes.length) return byteColumn;
  return bytes.subarray(0, byteColumn).toString("utf8").length;
}

/**
 * Formats esbuild messages as one line each: `file:line:col: text`, with a
 * 1-based column and the file relative to `displayBaseDir`. `workingDir` is
 * the `absWorkingDir` the build ran with (esbuild's locations are relative to
 * it). Messages without a location are just their text. Duplicates (esbuild
 * may report one failure per importer pass) are dropped.
 */
export function formatBuildMessages(
  messages: readonly Message[],
  workingDir: string,
  displayBaseDir: string = process.cwd(),
): string[] {
  const lines: string[] = [];
  for (const message of messages) {
    const text = message.text.replace(/\s*\n\s*/g, " ");
    const location = message.location;
    let line = text;
    if (location !== null) {
      const file = displayPath(path.resolve(workingDir, location.file), displayBaseDir);
      const column = characterColumn(location.lineText, location.column) + 1;
      line = `${file}:${location.line}:${column}: ${text}`;
    }
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}
