/**
 * The Set methods of ES2025 (union, intersection, difference,
 * symmetricDifference, isSubsetOf, isSupersetOf, isDisjointFrom), which
 * Node 20's V8 lacks, following the spec's steps where they are observable:
 * GetSetRecord's reads of size, has and keys in order, when the keys
 * iterator is opened and closed, -0 as +0, live iteration of this set. The
 * algorithms use the Set intrinsics captured when the module loads (see
 * es-builtins-lazy.ts), not the methods tenant code may have replaced since.
 */
import { installMethods, isObject, requireCallable, toIntegerOrInfinity } from "./es-builtin-support.js";

const { apply, getPrototypeOf } = Reflect;
const IntrinsicSet = Set;
const IntrinsicTypeError = TypeError;
const IntrinsicRangeError = RangeError;
const setPrototype = Set.prototype;
const setHas = setPrototype.has;
const setAdd = setPrototype.add;
const setDelete = setPrototype.delete;
const setValues = setPrototype.values;
const setSizeGetter = Object.getOwnPropertyDescriptor(setPrototype, "size")?.get as (this: Set<unknown>) => number;
const setIteratorNext = (getPrototypeOf(new Set().values()) as Iterator<unknown>).next;

interface SetRecord {
  readonly set: object;
  readonly size: number;
  readonly has: Function;
  readonly keys: Function;
}

/** RequireInternalSlot(O, [[SetData]]) and its size: the intrinsic size getter throws for anything but a Set. */
function thisSetSize(value: unknown): number {
  return apply(setSizeGetter, value, []) as number;
}

/** GetSetRecord. */
function getSetRecord(other: unknown): SetRecord {
  if (!isObject(other)) throw new IntrinsicTypeError("The argument must be an object");
  const rawSize = (other as { size: unknown }).size;
  const numSize = Number(rawSize);
  if (numSize !== numSize) throw new IntrinsicTypeError("The .size property is NaN");
  const size = toIntegerOrInfinity(numSize);
  if (size < 0) throw new IntrinsicRangeError(`'${String(rawSize)}' is an invalid size`);
  const has = (other as { has: unknown }).has;
  requireCallable(has, 'string "has"');
  const keys = (other as { keys: unknown }).keys;
  requireCallable(keys, 'string "keys"');
  return { set: other, size, has, keys };
}

/** The keys iterator of a set-like and its `next`, read once (GetIteratorFromMethod). */
function keysIterator(record: SetRecord): { iterator: object; next: Function } {
  const iterator = apply(record.keys, record.set, []) as unknown;
  if (!isObject(iterator)) throw new IntrinsicTypeError("The .keys() result is not an object");
  const next = (iterator as { next: unknown }).next;
  requireCallable(next);
  return { iterator, next };
}

/** Calls `visit` with each value of the set-like's keys (-0 as +0); `visit` returning true stops and closes the iterator. */
function forEachKey(record: SetRecord, visit: (value: unknown) => boolean | void): void {
  drainKeys(keysIterator(record), visit);
}

function drainKeys({ iterator, next }: { iterator: object; next: Function }, visit: (value: unknown) => boolean | void): void {
  for (;;) {
    const step = apply(next, iterator, []) as unknown;
    if (!isObject(step)) throw new IntrinsicTypeError("Iterator result is not an object");
    if ((step as IteratorResult<unknown>).done) return;
    const raw = (step as IteratorResult<unknown>).value;
    if (visit(raw === 0 ? 0 : raw) === true) {
      const close = (iterator as { return?: unknown }).return;
      if (close !== undefined && close !== null) {
        const closed = apply(close as Function, iterator, []) as unknown;
        if (!isObject(closed)) throw new IntrinsicTypeError("Iterator result is not an object");
      }
      return;
    }
  }
}

/** Calls `visit` with each element of the Set `set`, live as the spec's index walk (elements added meanwhile are visited). */
function forEachElement(set: object, visit: (value: unknown) => boolean | void): void {
  const iterator = apply(setValues, set, []) as Iterator<unknown>;
  for (let step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>; !step.done; step = apply(setIteratorNext, iterator, []) as IteratorResult<unknown>) {
    if (visit(step.value) === true) return;
  }
}

function copyOf(set: object): Set<unknown> {
  const copy = new IntrinsicSet<unknown>();
  forEachElement(set, (value) => void apply(setAdd, copy, [value]));
  return copy;
}

function inSet(set: object, value: unknown): boolean {
  return apply(setHas, set, [value]) as boolean;
}

function otherHas(record: SetRecord, value: unknown): boolean {
  return Boolean(apply(record.has, record.set, [value]));
}

const setMethods = {
  union(this: Set<unknown>, other: unknown): Set<unknown> {
    thisSetSize(this);
    const keys = keysIterator(getSetRecord(other));
    // The spec copies this set after opening the keys iterator (keys() may change it).
    const result = copyOf(this);
    drainKeys(keys, (value) => void apply(setAdd, result, [value]));
    return result;
  },
  intersection(this: Set<unknown>, other: unknown): Set<unknown> {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    const result = new IntrinsicSet<unknown>();
    if (size <= record.size) {
      forEachElement(this, (value) => {
        if (otherHas(record, value)) apply(setAdd, result, [value]);
      });
    } else {
      forEachKey(record, (value) => {
        if (inSet(this, value)) apply(setAdd, result, [value]);
      });
    }
    return result;
  },
  difference(this: Set<unknown>, other: unknown): Set<unknown> {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    const result = copyOf(this);
    if (size <= record.size) {
      // Over the copy, as the spec walks resultSetData.
      forEachElement(result, (value) => {
        if (otherHas(record, value)) apply(setDelete, result, [value]);
      });
    } else {
      forEachKey(record, (value) => void apply(setDelete, result, [value]));
    }
    return result;
  },
  symmetricDifference(this: Set<unknown>, other: unknown): Set<unknown> {
    thisSetSize(this);
    const keys = keysIterator(getSetRecord(other));
    const result = copyOf(this);
    drainKeys(keys, (value) => {
      const alreadyInResult = inSet(result, value);
      if (inSet(this, value)) {
        if (alreadyInResult) apply(setDelete, result, [value]);
      } else if (!alreadyInResult) apply(setAdd, result, [value]);
    });
    return result;
  },
  isSubsetOf(this: Set<unknown>, other: unknown): boolean {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    if (size > record.size) return false;
    let subset = true;
    forEachElement(this, (value) => {
      if (!otherHas(record, value)) subset = false;
      return !subset;
    });
    return subset;
  },
  isSupersetOf(this: Set<unknown>, other: unknown): boolean {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    if (size < record.size) return false;
    let superset = true;
    forEachKey(record, (value) => {
      if (!inSet(this, value)) superset = false;
      return !superset;
    });
    return superset;
  },
  isDisjointFrom(this: Set<unknown>, other: unknown): boolean {
    const size = thisSetSize(this);
    const record = getSetRecord(other);
    let disjoint = true;
    const visit = (found: boolean): boolean => {
      if (found) disjoint = false;
      return !disjoint;
    };
    if (size <= record.size) forEachElement(this, (value) => visit(otherHas(record, value)));
    else forEachKey(record, (value) => visit(inSet(this, value)));
    return disjoint;
  },
};


/** Installs the Set methods V8 does not have on Set.prototype. */
export function installSetMethods(): void {
  installMethods(setPrototype, setMethods, { union: 1, intersection: 1, difference: 1, symmetricDifference: 1, isSubsetOf: 1, isSupersetOf: 1, isDisjointFrom: 1 });
}
