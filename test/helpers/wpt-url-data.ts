import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The WPT URL cases kept in the source tree (see test/fixtures/wpt-url/README.md).
 * Resolved from this module's own location, dist/test/helpers/ once compiled,
 * so the tests read the repository's copy and nothing outside it.
 */
export const WPT_URL_DATA_PATH = fileURLToPath(new URL("../../../test/fixtures/wpt-url/urltestdata.json", import.meta.url));

/** The parsed cases: an array of WPT test objects (comment strings already dropped). */
export function readWptUrlCases(): unknown[] {
  return JSON.parse(readFileSync(WPT_URL_DATA_PATH, "utf8")) as unknown[];
}
