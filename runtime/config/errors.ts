/**
 * Error catalogue of the config module: everything that can go wrong while
 * turning `edgehost.json` (or `edgehost run`'s flags) into a ServeConfig.
 * These are user errors: the message is the list of problems, one line each,
 * and never a secret's value.
 */
export const CONFIG_ERRORS = {
  /** The config file could not be read (missing, a directory, no permission). */
  EDGE_CONFIG_UNREADABLE: "config file cannot be read",
  /** The config file is not valid JSON; the one issue carries line and column. */
  EDGE_CONFIG_SYNTAX: "config file is not valid JSON",
  /** The config failed validation; `issues` lists every problem with its JSON path. */
  EDGE_CONFIG_INVALID: "invalid configuration",
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERRORS;

/** One problem found in a config. */
export interface ConfigIssue {
  /**
   * Where, as a JSON path from the root (`apps[3].limits.cpuMs`,
   * `apps[0].vars["my-var"]`); `""` for the document as a whole. For a config
   * made from `edgehost run`'s flags, the flag (`--cpu-ms`).
   */
  readonly path: string;
  /** What is wrong, lower-case, no trailing period. */
  readonly message: string;
  /** 1-based position in the file, for syntax errors. */
  readonly line?: number;
  readonly column?: number;
}

/** Lines beyond this many are summarised: 10,000 apps can produce 10,000 issues. */
const MAX_LISTED_ISSUES = 50;

function issueLine(source: string, issue: ConfigIssue): string {
  if (issue.line !== undefined) return `${source}:${issue.line}:${issue.column ?? 1}: ${issue.message}`;
  return issue.path === "" ? `${source}: ${issue.message}` : `${source}: ${issue.path}: ${issue.message}`;
}

/** The one error class of the config module. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  /** Every problem found, in document order (all of them, even past the ones listed in `message`). */
  readonly issues: readonly ConfigIssue[];
  /** The config file, or a description of where the config came from (`edgehost run`). */
  readonly source: string;

  constructor(code: ConfigErrorCode, source: string, issues: readonly ConfigIssue[]) {
    const lines = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => issueLine(source, issue));
    if (issues.length > MAX_LISTED_ISSUES) lines.push(`${source}: ... and ${issues.length - MAX_LISTED_ISSUES} more problems`);
    super(lines.length > 0 ? lines.join("\n") : `${source}: ${CONFIG_ERRORS[code]}`);
    this.name = "ConfigError";
    this.code = code;
    this.source = source;
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}

/** True if `value` is a ConfigError (optionally with `code`). */
export function isConfigError(value: unknown, code?: ConfigErrorCode): value is ConfigError {
  return value instanceof ConfigError && (code === undefined || value.code === code);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `["apps", 3, "limits", "cpuMs"]` as `apps[3].limits.cpuMs`; odd keys as `vars["my-var"]`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else if (IDENTIFIER.test(part)) text += text === "" ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}
