import test from "ava";
import { withPrelude } from "./helpers/prelude-harness.js";
import { readWptUrlCases } from "./helpers/wpt-url-data.js";

/** What workerd passes of this suite; the prelude's URL must do at least as well. */
const WORKERD_PASSES = 861;

/**
 * Runs inside the isolate: the checks of WPT's url-constructor.any.js and
 * url-origin.any.js per case (failure cases must throw TypeError; the others
 * must match every component, searchParams and, where given, origin). Returns
 * the number of passing cases and the first few failures for the log.
 */
const RUNNER = `(cases) => {
  const fields = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"];
  let passed = 0;
  const failures = [];
  for (const expected of cases) {
    const base = expected.base === null ? undefined : expected.base;
    let problem = null;
    try {
      if (expected.failure) {
        try {
          new URL(expected.input, base);
          problem = "parsed, expected TypeError";
        } catch (error) {
          if (!(error instanceof TypeError)) problem = "threw " + String(error && error.name) + ", expected TypeError";
        }
      } else {
        const url = new URL(expected.input, base);
        for (const field of fields) {
          if (url[field] !== expected[field]) { problem = field + ": got " + JSON.stringify(url[field]) + ", expected " + JSON.stringify(expected[field]); break; }
        }
        if (problem === null && "searchParams" in expected && url.searchParams.toString() !== expected.searchParams) problem = "searchParams";
        if (problem === null && "origin" in expected && url.origin !== expected.origin) problem = "origin: got " + url.origin;
      }
    } catch (error) {
      problem = "threw " + String(error);
    }
    if (problem === null) passed++;
    else if (failures.length < 20) failures.push(JSON.stringify(expected.input) + " against " + JSON.stringify(expected.base) + ": " + problem);
  }
  return { total: cases.length, passed, failures };
}`;

test("URL: the WPT urltestdata cases pass inside an isolate at least as often as on workerd", async (t) => {
  const cases = readWptUrlCases();
  await withPrelude({ timeoutMs: 20_000 }, async (harness) => {
    const result = await harness.evaluate<{ total: number; passed: number; failures: string[] }>(`(${RUNNER})(${JSON.stringify(cases)})`);
    t.log(`WPT URL: ${result.passed} of ${result.total} cases pass (workerd: ${WORKERD_PASSES})`);
    for (const failure of result.failures) t.log(`  ${failure}`);
    t.is(result.total, cases.length);
    t.true(result.passed >= WORKERD_PASSES, `${result.passed} passed, need ${WORKERD_PASSES}`);
  });
});
