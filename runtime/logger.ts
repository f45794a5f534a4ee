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

/**
 * Default sink: `[app] [requestId] level: message`, errors and warnings to
 * stderr, the rest to stdout. Multi-line messages (stacks) stay together.
 */
export const consoleSink: LogSink = (line) => {
  const tags = `${line.app ? `[${line.app}] ` : ""}${line.requestId ? `[${line.requestId}] ` : ""}`;
  const text = `${tags}${line.level}: ${line.message}\n`;
  if (line.level === "error" || line.level === "warn") process.stderr.write(text);
  else process.stdout.write(text);
};
