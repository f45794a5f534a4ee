import { escapeLogText } from "../sandbox/index.js";

/** Severity of a server log line. */
export type LogLevel = "debug" | "log" | "info" | "warn" | "error";

/** One structured server log line. */
export interface LogLine {
  readonly level: LogLevel;
  readonly app?: string;
  readonly requestId?: string;
  readonly message: string;
  /** "console": the app's own console output (a JSON sink tags it; the text format shows it like any line). */
  readonly source?: "console";
}

/** Where log lines go; injectable for tests. */
export type LogSink = (line: LogLine) => void;

/** Put before a continuation line that starts at column 0, so it cannot pass for a record. */
const CONTINUATION_INDENT = "  | ";
/** A line break followed by a character that is not a space or tab. */
const UNINDENTED_LINE = /\n(?=[^ \t])/g;

/**
 * One record as text: `[app] [requestId] level: message`. Tenant text
 * reaches every field (console messages, error messages inside stacks), so
 * control characters are escaped here for all of them: the tags become one
 * line, and a message keeps its line feeds (host stacks stay readable) but
 * every later line that would start at column 0 is indented (stack frames
 * already are and stay as they are), so no text can start a line that looks
 * like another app's record.
 */
export function formatLogLine(line: LogLine): string {
  const app = line.app ? `[${escapeLogText(line.app)}] ` : "";
  const requestId = line.requestId ? `[${escapeLogText(line.requestId)}] ` : "";
  const message = escapeLogText(line.message, true);
  const body = message.includes("\n") ? message.replace(UNINDENTED_LINE, `\n${CONTINUATION_INDENT}`) : message;
  return `${app}${requestId}${line.level}: ${body}\n`;
}

/** Default sink: errors and warnings to stderr, the rest to stdout. */
export const consoleSink: LogSink = (line) => {
  const text = formatLogLine(line);
  if (line.level === "error" || line.level === "warn") process.stderr.write(text);
  else process.stdout.write(text);
};
