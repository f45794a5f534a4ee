/**
 * Secrets read at load, from the environment or from files (as mounted by
 * Docker or Kubernetes). A missing or unreadable secret is a reported
 * problem, never a silent empty string; messages name the variable or file,
 * never the value.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import type { PathIssue } from "./issues.js";
import { isRawObject, rawObject, rawString, type RawObject } from "./raw-input.js";
import { ENV_NAME, isBindingName } from "./schema.js";
import { Secret } from "./secret.js";

/** The environment secrets are read from (only the config module reads process.env). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Larger secret files are refused (certificates and keys fit easily). */
export const MAX_SECRET_FILE_BYTES = 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    default:
      return code ?? "unreadable";
  }
}

/**
 * The file's text without one trailing newline (editors and `echo` add it; a
 * key with a newline in it is nearly always that accident). Opened without
 * blocking and checked to be a regular file first, so a FIFO or /dev/zero
 * named by mistake cannot hang or exhaust the loader.
 */
function readSecretFile(path: string): { value: string } | { problem: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { problem: `cannot read secret file ${path}: ${errnoText(error)}` };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { problem: `secret file ${path} is not a regular file` };
    if (stats.size > MAX_SECRET_FILE_BYTES) return { problem: `secret file ${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes` };
    const bytes = Buffer.alloc(stats.size);
    let length = 0;
    while (length < bytes.length) {
      const read = readSync(fd, bytes, length, bytes.length - length, length);
      if (read === 0) break;
      length += read;
    }
    let value: string;
    try {
      value = utf8.decode(bytes.subarray(0, length));
    } catch {
      return { problem: `secret file ${path} is not UTF-8 text` };
    }
    value = value.endsWith("\r\n") ? value.slice(0, -2) : value.endsWith("\n") ? value.slice(0, -1) : value;
    return value === "" ? { problem: `secret file ${path} is empty` } : { value };
  } catch (error) {
    return { problem: `cannot read secret file ${path}: ${errnoText(error)}` };
  } finally {
    closeSync(fd);
  }
}

/** Read one secret; a string is the problem. */
export function readSecret(ref: { env: string } | { file: string }, baseDir: string, env: Environment): Secret | string {
  if ("env" in ref) {
    const value = env[ref.env];
    if (value === undefined) return `environment variable ${ref.env} is not set`;
    if (value === "") return `environment variable ${ref.env} is empty`;
    return new Secret(value, `env ${ref.env}`);
  }
  const path = resolve(baseDir, ref.file);
  const result = readSecretFile(path);
  return "value" in result ? new Secret(result.value, `file ${path}`) : result.problem;
}

/**
 * A reference worth reading: `{env}` or `{file}` with a non-empty string.
 * Anything else the schema reports; checked by hand because a second zod
 * parse per secret would cost more than the reading.
 */
function wellFormedRef(value: unknown): { env: string } | { file: string } | undefined {
  if (!isRawObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const env = rawString(value, "env");
  if (env !== undefined) return ENV_NAME.test(env) ? { env } : undefined;
  const file = rawString(value, "file");
  return file !== undefined && file !== "" && !file.includes("\0") ? { file } : undefined;
}

/**
 * Every app's secrets, by app index (frozen); refs the schema refuses are
 * skipped (it reports them). Runs on the raw input so that a missing secret is
 * reported together with everything else.
 */
export function resolveAppSecrets(
  apps: ReadonlyArray<{ readonly index: number; readonly app: RawObject }>,
  baseDir: string,
  env: Environment,
): { secrets: Map<number, Record<string, Secret>>; issues: PathIssue[] } {
  const secrets = new Map<number, Record<string, Secret>>();
  const issues: PathIssue[] = [];
  for (const { index, app } of apps) {
    const refs = rawObject(app, "secrets");
    if (refs === undefined) continue;
    const resolved: Record<string, Secret> = {};
    for (const [key, rawRef] of Object.entries(refs)) {
      const ref = wellFormedRef(rawRef);
      if (ref === undefined || !isBindingName(key)) continue;
      const secret = readSecret(ref, baseDir, env);
      if (typeof secret === "string") issues.push({ parts: ["apps", index, "secrets", key], message: secret });
      else resolved[key] = secret;
    }
    secrets.set(index, Object.freeze(resolved));
  }
  return { secrets, issues };
}
