import test from "ava";
import { loadServeConfig, parseConfigJson } from "../runtime/config/index.js";
import { findJsonSyntaxError, lineColumn } from "../runtime/config/json-syntax.js";
import { configDir, expectConfigError, writeConfig } from "./helpers/config-fixtures.js";

const CASES: ReadonlyArray<readonly [string, string, number, number, string]> = [
  ["missing value", '{\n  "apps": \n}', 3, 1, "expected a value, found \"}\""],
  ["trailing comma in an object", '{\n  "apps": [],\n}', 2, 13, "trailing comma"],
  ["trailing comma in an array", '{"apps": [1, 2,]}', 1, 15, "trailing comma"],
  ["missing colon", '{"apps" []}', 1, 9, "expected ':' after the property name, found \"[\""],
  ["single-quoted key", "{'apps': []}", 1, 2, 'expected a property name in double quotes, found "\'"'],
  ["unterminated string", '{"apps": [{"name": "x}]}', 1, 20, "unterminated string"],
  ["bad escape", '{"a": "\\x"}', 1, 8, "invalid escape \\x"],
  ["raw newline in a string", '{"a": "line\nnext"}', 1, 12, "control character U+000A inside a string (escape it)"],
  ["missing comma", '{"a": 1\n "b": 2}', 2, 2, "expected ',' or '}', found \"\\\"\""],
  ["comment", '{\n  // routes\n  "apps": []\n}', 2, 3, 'expected a property name in double quotes, found "/"'],
  ["leading zero", '{"a": 012}', 1, 8, "invalid number"],
  ["text after the document", '{"apps": []} x', 1, 14, 'unexpected "x" after the end of the document'],
  ["empty file", "", 1, 1, "expected a value, found end of input"],
  ["unclosed object", '{"apps": [\n', 2, 1, "expected a value, found end of input"],
  ["unclosed array after a value", '{"apps": [1', 1, 12, "expected ',' or ']', found end of input"],
];

for (const [title, text, line, column, message] of CASES) {
  test(`config json: ${title} is reported at line ${line}, column ${column}`, (t) => {
    const error = expectConfigError(t, () => parseConfigJson(text, "edgehost.json"));
    t.is(error.code, "EDGE_CONFIG_SYNTAX");
    t.deepEqual(error.issues, [{ path: "", message, line, column }]);
    t.is(error.message, `edgehost.json:${line}:${column}: ${message}`);
  });
}

test("config json: the scanner accepts everything JSON.parse accepts", (t) => {
  const valid = ['{"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n", {}, []]}', "[]", "0", '"s"', ' \r\n\t{ "a" : { "b" : [ [ ] ] } } ', "[".repeat(10_000) + "]".repeat(10_000)];
  for (const text of valid) {
    JSON.parse(text);
    t.is(findJsonSyntaxError(text), undefined, text.slice(0, 40));
  }
});

test("config json: a syntax error message does not quote the file's text", (t) => {
  const error = expectConfigError(t, () => parseConfigJson('{"vars": {"TOKEN": "hunter2" }, }', "f.json"));
  t.false(error.message.includes("hunter2"));
});

test("config json: loadServeConfig reports the position with the path as given", (t) => {
  const dir = configDir(t);
  const file = writeConfig(dir, '{\n  "apps": [\n    { "name": "a", }\n  ]\n}');
  const error = expectConfigError(t, () => loadServeConfig(file, { env: {} }));
  t.is(error.code, "EDGE_CONFIG_SYNTAX");
  t.is(error.message, `${file}:3:18: trailing comma`);
});

test("config json: lineColumn counts lines from 1 and columns from 1", (t) => {
  t.deepEqual(lineColumn("ab\ncd", 0), { line: 1, column: 1 });
  t.deepEqual(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
  t.deepEqual(lineColumn("ab\r\ncd", 4), { line: 2, column: 1 });
});
