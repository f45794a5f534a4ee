/**
 * Where a JSON text stops being JSON (RFC 8259), for error messages. Only
 * called after `JSON.parse` has failed: V8's own messages name a position for
 * some errors and not others, and quote the surrounding source (which may hold
 * vars), so we find the position ourselves and describe it in our own words.
 */

/** A syntax error: 0-based offset into the text, and what was expected there. */
export interface JsonSyntaxError {
  readonly offset: number;
  readonly message: string;
}

/** 1-based line and column (in UTF-16 units) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function describeChar(text: string, offset: number): string {
  if (offset >= text.length) return "end of input";
  const char = text.codePointAt(offset) ?? 0;
  if (char < 0x20 || char === 0x7f) return `control character U+${char.toString(16).padStart(4, "0").toUpperCase()}`;
  return JSON.stringify(String.fromCodePoint(char));
}

/** Thrown inside the scanner to unwind to its caller; never escapes. */
class Failure extends Error {
  constructor(readonly error: JsonSyntaxError) {
    super(error.message);
  }
}

/**
 * The first syntax error in `text`, or undefined if it is valid JSON. Walks
 * the text once with an explicit stack (no recursion, so deep nesting cannot
 * overflow the call stack).
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (message: string, at: number = i): never => {
    throw new Failure({ offset: at, message });
  };
  const unexpected = (expected: string): never => fail(`expected ${expected}, found ${describeChar(text, i)}`);
  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else break;
    }
  };
  const readString = (): void => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail("unterminated string", start);
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return;
      }
      if (code < 0x20) fail(`${describeChar(text, i)} inside a string (escape it)`);
      if (code === 0x5c) {
        const next = text[i + 1];
        if (next === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail("invalid \\u escape: expected four hex digits");
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else fail(`invalid escape \\${next ?? ""}`);
      } else i++;
    }
  };
  const readNumber = (): void => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (match === null || match[0] === "" || match[0] === "-") fail("invalid number");
    i += match?.[0].length ?? 0;
    if (/[0-9.eE+-]/.test(text[i] ?? "")) fail("invalid number");
  };
  const readValue = (): "object" | "array" | "scalar" => {
    skipSpace();
    const c = text[i];
    if (c === "{") return "object";
    if (c === "[") return "array";
    if (c === '"') readString();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) readNumber();
    else {
      const word = ["true", "false", "null"].find((literal) => text.startsWith(literal, i));
      if (word === undefined) unexpected("a value");
      i += word?.length ?? 0;
    }
    return "scalar";
  };
  // Each open container: "{" after its opening or a value; "[" likewise.
  const stack: Array<"{" | "["> = [];
  /** Open a container at text[i] (already known to be { or [) and read up to its first value. */
  const open = (kind: "object" | "array"): boolean => {
    i++;
    skipSpace();
    if (kind === "object") {
      stack.push("{");
      if (text[i] === "}") {
        i++;
        stack.pop();
        return false;
      }
      readMember();
      return true;
    }
    stack.push("[");
    if (text[i] === "]") {
      i++;
      stack.pop();
      return false;
    }
    return true;
  };
  const readMember = (): void => {
    skipSpace();
    if (text[i] !== '"') unexpected("a property name in double quotes");
    readString();
    skipSpace();
    if (text[i] !== ":") unexpected("':' after the property name");
    i++;
  };
  try {
    let pending = true; // a value must be read next
    let top = readValue();
    for (;;) {
      if (pending) {
        if (top === "scalar") pending = false;
        else if (open(top)) {
          top = readValue();
          continue;
        } else pending = false;
      }
      const container = stack[stack.length - 1];
      if (container === undefined) break;
      skipSpace();
      const close = container === "{" ? "}" : "]";
      if (text[i] === close) {
        i++;
        stack.pop();
        continue;
      }
      if (text[i] !== ",") unexpected(`',' or '${close}'`);
      const comma = i++;
      skipSpace();
      if (text[i] === close) fail("trailing comma", comma);
      if (container === "{") readMember();
      top = readValue();
      pending = true;
    }
    skipSpace();
    if (i < text.length) fail(`unexpected ${describeChar(text, i)} after the end of the document`);
    return undefined;
  } catch (error) {
    if (error instanceof Failure) return error.error;
    throw error;
  }
}
