import { escapeLogText } from "../sandbox/index.js";

/** Severity of a server log line. */
export type LogLevel = "debug" | "log" | "info" | "warn" | "error";

/** One structured server log line. */
export interface LogLine {
  readonly level: LogLevel;
  readonly app?: string;
  readonly requestId?: string;
  readonly message: string;
}

/** Where log lines go; injectable for tests. */
export type LogSink = (line: LogLine) => void;

/** Continuation lines of a multi-line message start with this, so none can pass for a record. */
const CONTINUATION_INDENT = "  | ";

/**
 * One record as text: `[app] [requestId] level: message`. Tenant text
 * reaches every field (console messages, error messages inside stacks), so
 * control characters are escaped here for all of them: the tags become one
 * line, and a message keeps its line feeds (host stacks stay readable) but
 * every line after the first is indented, so no text can start a line that
 * looks like another app's record.
 */
export function formatLogLine(line: LogLine): string {
  const app = line.app ? `[${escapeLogText(line.app)}] ` : "";
  const requestId = line.requestId ? `[${escapeLogText(line.requestId)}] ` : "";
  const message = escapeLogText(line.message, true);
  const body = message.includes("\n") ? message.replaceAll("\n", `\n${CONTINUATION_INDENT}`) : message;
  return `${app}${requestId}${line.level}: ${body}\n`;
}

/** Default sink: errors and warnings to stderr, the rest to stdout. */
export const consoleSink: LogSink = (line) => {
  const text = formatLogLine(line);
  if (line.level === "error" || line.level === "warn") process.stderr.write(text);
  else process.stdout.write(text);
};
