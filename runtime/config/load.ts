/**
 * `edgehost serve <config>`: read `edgehost.json`, parse it, validate it
 * once. Reads nothing else but secret files and (one stat each) the apps'
 * entries and asset dirs; builds nothing.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "./errors.js";
import { findJsonSyntaxError, lineColumn } from "./json-syntax.js";
import { validateServeConfig } from "./resolve.js";
import type { Environment } from "./secrets.js";
import type { ServeConfig } from "./types.js";

export interface LoadOptions {
  /** Where secrets and the admin token are read from. Default: `process.env`. */
  readonly env?: Environment;
  /** Check that entries and asset dirs exist. Default true. */
  readonly checkFiles?: boolean;
}

function readErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return code ?? String(error);
}

/** The JSON value in `text`, or ConfigError(EDGE_CONFIG_SYNTAX) with line and column. */
export function parseConfigJson(text: string, source: string): unknown {
  // Editors on Windows write a BOM; it is not JSON but means nothing here.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // V8's message is not used: it quotes the source around the error.
    const found = findJsonSyntaxError(body) ?? { offset: 0, message: "not valid JSON" };
    const { line, column } = lineColumn(body, found.offset);
    throw new ConfigError("EDGE_CONFIG_SYNTAX", source, [{ path: "", message: found.message, line, column }]);
  }
}

/**
 * Load and validate the config at `path`. Relative paths inside it are
 * resolved against its directory.
 *
 * @throws ConfigError EDGE_CONFIG_UNREADABLE (the file), EDGE_CONFIG_SYNTAX
 *   (not JSON: line and column), EDGE_CONFIG_INVALID (every problem, each
 *   with its JSON path). No message ever holds a secret's value.
 */
export function loadServeConfig(path: string, options: LoadOptions = {}): ServeConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError("EDGE_CONFIG_UNREADABLE", path, [{ path: "", message: `cannot read the config file: ${readErrorText(error)}` }]);
  }
  const input = parseConfigJson(text, path);
  return validateServeConfig(input, {
    source: path,
    baseDir: dirname(file),
    env: options.env ?? process.env,
    file,
    ...(options.checkFiles === undefined ? {} : { checkFiles: options.checkFiles }),
  });
}
