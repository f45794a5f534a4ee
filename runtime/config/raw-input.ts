/**
 * Safe reads from the unvalidated input, for the checks that must run even
 * when the schema has refused some other part of the document (so that every
 * problem is reported at once). Anything of an unexpected shape reads as
 * absent: the schema reports it.
 */

export type RawObject = Readonly<Record<string, unknown>>;

export function isRawObject(value: unknown): value is RawObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `object[key]` if it is an own string property. */
export function rawString(object: RawObject, key: string): string | undefined {
  if (!Object.hasOwn(object, key)) return undefined;
  const value = object[key];
  return typeof value === "string" ? value : undefined;
}

/** `object[key]` if it is an own array property. */
export function rawArray(object: RawObject, key: string): readonly unknown[] | undefined {
  if (!Object.hasOwn(object, key)) return undefined;
  const value = object[key];
  return Array.isArray(value) ? value : undefined;
}

/** `object[key]` if it is an own plain-object property. */
export function rawObject(object: RawObject, key: string): RawObject | undefined {
  if (!Object.hasOwn(object, key)) return undefined;
  const value = object[key];
  return isRawObject(value) ? value : undefined;
}

/** The apps array's objects with their indexes (non-objects skipped: the schema reports them). */
export function rawApps(input: unknown): Array<{ readonly index: number; readonly app: RawObject }> {
  if (!isRawObject(input)) return [];
  const apps = rawArray(input, "apps") ?? [];
  const result: Array<{ index: number; app: RawObject }> = [];
  apps.forEach((app, index) => {
    if (isRawObject(app)) result.push({ index, app });
  });
  return result;
}
