/**
 * What every scenario run on its own (`npm run bench -- --noisy`, `--ops`,
 * `--serve`) does with its command line, in one place.
 */

/** `--name`'s value as a positive integer, or `fallback` when the flag is not given. Throws naming the flag. */
export function positiveIntegerOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} expects a positive integer, got ${JSON.stringify(value)}`);
  return number;
}

/**
 * The scenario's options from `argv` by `parse` (null for --help). A bad
 * command line prints its error and the usage and gives exit code 2;
 * --help prints the usage and gives 0. Returns the options or the exit code.
 */
export function scenarioOptions<T>(label: string, usage: string, argv: readonly string[], parse: (argv: readonly string[]) => T | null): T | number {
  let options: T | null;
  try {
    options = parse(argv);
  } catch (error) {
    process.stderr.write(`bench ${label}: ${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
    return 2;
  }
  if (options === null) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  return options;
}
