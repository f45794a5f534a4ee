import test from "ava";
import { readFileSync } from "node:fs";
import { CLIENT_ERRORS, ERROR_CODES, errorTablesMarkdown, SANDBOX_CODE_REPLIES } from "../runtime/error-catalogue.js";
import * as replies from "../runtime/error-response.js";
import { SANDBOX_ERRORS } from "../sandbox/index.js";

test("error catalogue: README's tables are the catalogue's", (t) => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("<!-- error-tables:start -->\n");
  const end = readme.indexOf("\n<!-- error-tables:end -->");
  t.true(start !== -1 && end > start, "README has the error-tables markers");
  t.is(readme.slice(start + "<!-- error-tables:start -->\n".length, end), errorTablesMarkdown(), "run `npm run --silent error-tables` and paste its output into README.md");
});

test("error catalogue: every client error is reachable, from a sandbox code or a front-end reply", (t) => {
  const fromSandbox = new Set<string>(Object.values(SANDBOX_CODE_REPLIES));
  const fromFrontEnd = new Set(
    Object.values(replies)
      .filter((value): value is { status: number; error: string } => typeof value === "object" && value !== null && "error" in value)
      .map((reply) => reply.error),
  );
  for (const name of Object.keys(CLIENT_ERRORS)) t.true(fromSandbox.has(name) || fromFrontEnd.has(name), `${name} is produced somewhere`);
});

test("error catalogue: every sandbox code has a reply with the catalogue's status", (t) => {
  for (const code of Object.keys(SANDBOX_ERRORS) as Array<keyof typeof SANDBOX_ERRORS>) {
    const reply = replies.replyForSandboxCode(code);
    if (code === "EDGE_SANDBOX_ABORTED") continue;
    t.is(reply.status, CLIENT_ERRORS[reply.error as keyof typeof CLIENT_ERRORS].status, code);
    t.truthy(ERROR_CODES[code]);
  }
});
