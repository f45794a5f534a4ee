import test from "ava";
import { parseDevVars } from "../runtime/dev-vars.js";
import { RuntimeError } from "../runtime/errors.js";

test("dev vars: parses dotenv syntax", (t) => {
  const text = [
    "# comment",
    "",
    "PLAIN=value",
    "export EXPORTED=yes",
    "SPACED = padded  # trailing comment",
    'DOUBLE="line1\\nline2 \\"q\\""',
    "SINGLE='raw \\n # not a comment'",
    "EMPTY=",
    "URL=https://x.test/?a=b#frag",
  ].join("\n");
  t.deepEqual(parseDevVars(text, ".dev.vars"), {
    PLAIN: "value",
    EXPORTED: "yes",
    SPACED: "padded",
    DOUBLE: 'line1\nline2 "q"',
    SINGLE: "raw \\n # not a comment",
    EMPTY: "",
    URL: "https://x.test/?a=b#frag",
  });
});

test("dev vars: a malformed line names file and line", (t) => {
  const error = t.throws(() => parseDevVars("A=1\n2BAD=x\n", "/app/.dev.vars"), { instanceOf: RuntimeError });
  t.is(error?.code, "EDGE_RUNTIME_BAD_DEV_VARS");
  t.is(error?.message, '/app/.dev.vars:2: expected KEY=value, got "2BAD=x"');
});

test("dev vars: an unterminated quote is an error", (t) => {
  const error = t.throws(() => parseDevVars('A="open\n', "f"), { instanceOf: RuntimeError });
  t.is(error?.message, 'f:1: unterminated " quote');
});
