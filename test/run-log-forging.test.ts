import test from "ava";
import { withApp } from "./helpers/with-app.js";

// Tenant text that tries to print a second, well-formed record for another
// app and to drive the operator's terminal (issue 5, item 7).
const forgerApp = `
const forged = "hello\\n[other-app] [id] error: forged\\x1b[2K";
export default {
  async fetch(request: Request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/log") {
      console.log(forged);
      console.error("cr\\rnel\\u0085ls\\u2028bidi\\u202e!");
      return new Response("logged");
    }
    throw new Error(forged);
  },
};
`;

/** Lines of the server's output that look like a record: `[app] [id] level: ...` at column 0. */
function recordLines(output: string): string[] {
  return output.split("\n").filter((line) => /^\[[^\]]*\] (\[[^\]]*\] )?(debug|log|info|warn|error):/.test(line));
}

test("log forging: one console call is one record, control characters escaped, no forged record", async (t) => {
  await withApp(t, forgerApp, [], async (server) => {
    const response = await fetch(`${server.url}/log`);
    t.is(await response.text(), "logged");
    const output = await server.waitForOutput(/bidi/);
    t.regex(output, /^\[app\.ts\] \[[0-9a-f-]{36}\] log: hello\\n\[other-app\] \[id\] error: forged\\x1b\[2K$/m);
    t.regex(output, /^\[app\.ts\] \[[0-9a-f-]{36}\] error: cr\\rnel\\x85ls\\u2028bidi\\u202e!$/m);
    t.false(output.includes("\x1b"), "no raw escape sequence reaches the log");
    t.false(/[\r\x85\u2028\u202e]/.test(output), "no raw CR, NEL, line separator or bidi override");
    t.deepEqual(recordLines(output).filter((line) => line.includes("other-app") || line.includes("forged")).length, 1);
    t.notRegex(output, /^\[other-app\]/m);
  });
});

test("log forging: tenant text inside a logged stack cannot start a line of its own", async (t) => {
  await withApp(t, forgerApp, [], async (server) => {
    const response = await fetch(`${server.url}/throw`);
    t.is(response.status, 500);
    const { requestId } = (await response.json()) as { requestId: string };
    const output = await server.waitForOutput(/at Object\.fetch|at fetch/);
    t.notRegex(output, /^\[other-app\]/m);
    t.false(output.includes("\x1b"));
    const lines = output.split("\n");
    const first = lines.findIndex((line) => line.startsWith(`[app.ts] [${requestId}] error: `));
    t.true(first >= 0, "the stack is logged as the request's record");
    // The record continues on indented lines; the forged text is one of them
    // and the stack frames keep their own indentation.
    t.regex(lines[first + 1] ?? "", /^ {2}\| \[other-app\] \[id\] error: forged\\x1b\[2K/);
    t.regex(lines[first + 2] ?? "", /^ {4}at /);
  });
});
