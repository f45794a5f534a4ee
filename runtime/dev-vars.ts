import { RuntimeError } from "./errors.js";

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parse a `.dev.vars` file (dotenv syntax, as wrangler reads it): `KEY=value`
 * lines, `#` comments, optional `export ` prefix, single- or double-quoted
 * values (double quotes understand \n, \t, \" and \\), inline comments after
 * unquoted values. A malformed line is an error naming the file and line.
 */
export function parseDevVars(text: string, fileName: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) return;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    const key = eq === -1 ? body : body.slice(0, eq).trim();
    if (eq === -1 || !KEY.test(key)) {
      throw new RuntimeError("EDGE_RUNTIME_BAD_DEV_VARS", `${fileName}:${index + 1}: expected KEY=value, got ${JSON.stringify(rawLine)}`);
    }
    vars[key] = parseValue(body.slice(eq + 1).trim(), fileName, index + 1);
  });
  return vars;
}

function parseValue(raw: string, fileName: string, lineNumber: number): string {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.lastIndexOf(quote);
    if (end === 0) {
      throw new RuntimeError("EDGE_RUNTIME_BAD_DEV_VARS", `${fileName}:${lineNumber}: unterminated ${quote} quote`);
    }
    const inner = raw.slice(1, end);
    if (quote === "'") return inner;
    return inner.replace(/\\([nrt"\\])/g, (_, ch: string) => ({ n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" })[ch] ?? ch);
  }
  const comment = raw.search(/\s#/);
  return (comment === -1 ? raw : raw.slice(0, comment)).trim();
}
