/**
 * RESULTS.md is written by several runs: the full `npm run bench` and the
 * scenarios that run on their own (`--noisy`, `--ops`). Each of those owns
 * a section between `<!-- name:start -->` and `<!-- name:end -->` markers and
 * replaces only it, so one run never erases another's results.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";

/** The start and end markers of section `name`. */
export function sectionMarkers(name: string): { readonly start: string; readonly end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

const ANY_SECTION = /<!-- ([a-z0-9-]+):start -->[\s\S]*?<!-- \1:end -->/g;

function readExisting(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/**
 * Replace section `name` of the file at `path` with `section` (which must
 * start and end with the section's markers), or append it; the rest of the
 * file is kept as it is.
 */
export async function writeSection(path: string, name: string, section: string): Promise<void> {
  const { start: startMarker, end: endMarker } = sectionMarkers(name);
  const existing = readExisting(path);
  const start = existing.indexOf(startMarker);
  const end = existing.indexOf(endMarker);
  const next =
    start !== -1 && end > start
      ? `${existing.slice(0, start)}${section}${existing.slice(end + endMarker.length)}`
      : `${existing.trimEnd()}${existing === "" ? "" : "\n\n"}${section}\n`;
  await writeFile(path, next);
}

/**
 * Write `report` (a whole RESULTS.md without marked sections) to `path`,
 * carrying over the marked sections the file already has.
 */
export async function writeReportKeepingSections(path: string, report: string): Promise<void> {
  const kept = readExisting(path).match(ANY_SECTION) ?? [];
  await writeFile(path, kept.length === 0 ? report : `${report.trimEnd()}\n\n${kept.join("\n\n")}\n`);
}
