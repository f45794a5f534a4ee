/**
 * Freeze `value` and everything reachable from it. Objects already frozen
 * are taken as frozen all the way down (shared limits, Secrets), which keeps
 * this linear in the size of the config.
 */
export function deepFreeze<T>(value: T): T {
  const stack: object[] = [];
  const push = (item: unknown): void => {
    if (typeof item === "object" && item !== null && !Object.isFrozen(item)) stack.push(item);
  };
  push(value);
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    Object.freeze(item);
    for (const key of Object.keys(item)) push((item as Record<string, unknown>)[key]);
  }
  return value;
}
