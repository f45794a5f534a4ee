/**
 * Characters that may not reach a log as themselves: C0 controls (line
 * breaks would start a forged record, ESC drives the terminal), DEL, C1
 * controls (0x9b is a one-byte CSI on some terminals), the Unicode line and
 * paragraph separators, and the bidirectional overrides that make text
 * display in another order than it reads (Trojan Source).
 */
const UNSAFE = /[\0-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const UNSAFE_EXCEPT_LF = /[\0-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with every control character written as a visible escape (`\n`,
 * `\x1b`, `\u2028`), so that it prints as one line and moves no cursor.
 * With `keepLineFeeds`, LF stays (for multi-line host text such as stacks;
 * the caller must then keep continuation lines from passing for records).
 */
export function escapeLogText(text: string, keepLineFeeds = false): string {
  const pattern = keepLineFeeds ? UNSAFE_EXCEPT_LF : UNSAFE;
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, escapeOne) : text;
}
