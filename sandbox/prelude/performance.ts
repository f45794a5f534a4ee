/**
 * `performance` as workerd gives it: `timeOrigin` is 0 and `now()` is the
 * wall clock in milliseconds since the epoch (Date.now(), read through the
 * intrinsic captured at load, so a patched Date.now changes nothing), plus
 * User Timing's marks and measures. Entries live in the isolate's own heap,
 * counted against its memory limit like any other tenant object.
 */
import { DOMException } from "./dom-exception.js";
import { EventTarget } from "./event-target.js";
import { structuredClone } from "./structured-clone.js";

const dateNow = Date.now;

function now(): number {
  return dateNow();
}

const ENTRY_KEY = Symbol("PerformanceEntry");

/** One timeline entry; made only by its subclasses (an illegal constructor, as in workerd). */
export class PerformanceEntry {
  readonly #name: string;
  readonly #entryType: string;
  readonly #startTime: number;
  readonly #duration: number;

  constructor(key: symbol, name: string, entryType: string, startTime: number, duration: number) {
    if (key !== ENTRY_KEY) throw new TypeError("Illegal constructor");
    this.#name = name;
    this.#entryType = entryType;
    this.#startTime = startTime;
    this.#duration = duration;
  }

  get name(): string {
    return this.#name;
  }
  get entryType(): string {
    return this.#entryType;
  }
  get startTime(): number {
    return this.#startTime;
  }
  get duration(): number {
    return this.#duration;
  }
  toJSON(): Record<string, unknown> {
    return { name: this.#name, entryType: this.#entryType, startTime: this.#startTime, duration: this.#duration };
  }
}

function timestampOption(value: unknown, what: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new TypeError(`${what} must be a non-negative finite number`);
  return number;
}

/** A named point on the timeline (`performance.mark`). */
export class PerformanceMark extends PerformanceEntry {
  readonly #detail: unknown;

  constructor(name: string, options?: { startTime?: number; detail?: unknown }) {
    if (arguments.length === 0) throw new TypeError("PerformanceMark: 1 argument required, but only 0 present");
    const startTime = options?.startTime === undefined ? now() : timestampOption(options.startTime, "startTime");
    super(ENTRY_KEY, String(name), "mark", startTime, 0);
    this.#detail = options?.detail === undefined ? null : structuredClone(options.detail);
  }

  get detail(): unknown {
    return this.#detail;
  }
  /** As workerd: the entry's attributes, and the detail when there is one. */
  override toJSON(): Record<string, unknown> {
    return this.#detail === null ? super.toJSON() : { ...super.toJSON(), detail: this.#detail };
  }
  get [Symbol.toStringTag](): string {
    return "PerformanceMark";
  }
}

const MEASURE_KEY = Symbol("PerformanceMeasure");

/** A span between two points (`performance.measure`); made only by Performance. */
export class PerformanceMeasure extends PerformanceEntry {
  readonly #detail: unknown;

  constructor(key: symbol, name: string, startTime: number, duration: number, detail: unknown) {
    if (key !== MEASURE_KEY) throw new TypeError("Illegal constructor");
    super(ENTRY_KEY, name, "measure", startTime, duration);
    this.#detail = detail;
  }

  get detail(): unknown {
    return this.#detail;
  }
  override toJSON(): Record<string, unknown> {
    return this.#detail === null ? super.toJSON() : { ...super.toJSON(), detail: this.#detail };
  }
  get [Symbol.toStringTag](): string {
    return "PerformanceMeasure";
  }
}

interface MeasureOptions {
  start?: string | number;
  end?: string | number;
  duration?: number;
  detail?: unknown;
}

const PERFORMANCE_KEY = Symbol("Performance");

/**
 * The `performance` global's class. Methods that read no state still touch
 * `#entries`: that is the brand check WebIDL asks for (a TypeError when
 * called on anything but a Performance).
 */
export class Performance extends EventTarget {
  #entries: PerformanceEntry[] = [];

  constructor(key: symbol) {
    if (key !== PERFORMANCE_KEY) throw new TypeError("Illegal constructor");
    super();
  }

  get timeOrigin(): number {
    void this.#entries;
    return 0;
  }

  now(): number {
    void this.#entries;
    return now();
  }

  mark(name: string, options?: { startTime?: number; detail?: unknown }): PerformanceMark {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'mark' on 'Performance': 1 argument required, but only 0 present.");
    const mark = new PerformanceMark(name, options);
    this.#entries.push(mark);
    return mark;
  }

  measure(name: string, startOrOptions?: string | MeasureOptions, endMark?: string): PerformanceMeasure {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'measure' on 'Performance': 1 argument required, but only 0 present.");
    const options = typeof startOrOptions === "object" && startOrOptions !== null ? startOrOptions : undefined;
    let start: number;
    let end: number;
    if (options !== undefined) {
      if (endMark !== undefined) throw new TypeError("If a PerformanceMeasureOptions object is given, endMark must be undefined");
      if (options.start !== undefined && options.end !== undefined && options.duration !== undefined) {
        throw new TypeError("PerformanceMeasureOptions may not give start, end and duration together");
      }
      const duration = options.duration === undefined ? undefined : timestampOption(options.duration, "duration");
      const given = (point: string | number | undefined): number | undefined => (point === undefined ? undefined : this.#timeOf(point));
      const startGiven = given(options.start);
      const endGiven = given(options.end);
      end = endGiven ?? (startGiven !== undefined && duration !== undefined ? startGiven + duration : now());
      start = startGiven ?? (duration !== undefined && endGiven !== undefined ? endGiven - duration : 0);
    } else {
      start = startOrOptions === undefined || startOrOptions === null ? 0 : this.#timeOf(startOrOptions as string | number);
      end = endMark === undefined ? now() : this.#timeOf(endMark);
    }
    const detail = options?.detail === undefined ? null : structuredClone(options.detail);
    const measure = new PerformanceMeasure(MEASURE_KEY, String(name), start, end - start, detail);
    this.#entries.push(measure);
    return measure;
  }

  /** A mark's name (its latest start time) or a timestamp. */
  #timeOf(point: string | number): number {
    if (typeof point === "number") return timestampOption(point, "A measure's start or end");
    const name = String(point);
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i] as PerformanceEntry;
      if (entry.entryType === "mark" && entry.name === name) return entry.startTime;
    }
    throw new DOMException(`Failed to execute 'measure' on 'Performance': The mark '${name}' does not exist.`, "SyntaxError");
  }

  getEntries(): PerformanceEntry[] {
    return [...this.#entries].sort((a, b) => a.startTime - b.startTime);
  }

  getEntriesByType(type: string): PerformanceEntry[] {
    const wanted = String(type);
    return this.getEntries().filter((entry) => entry.entryType === wanted);
  }

  getEntriesByName(name: string, type?: string): PerformanceEntry[] {
    const wanted = String(name);
    return this.getEntries().filter((entry) => entry.name === wanted && (type === undefined || entry.entryType === String(type)));
  }

  clearMarks(name?: string): void {
    this.#clear("mark", name);
  }

  clearMeasures(name?: string): void {
    this.#clear("measure", name);
  }

  /** No resource timing is recorded (subrequests are not entries), so there is nothing to clear or size. */
  clearResourceTimings(): void {
    void this.#entries;
  }

  setResourceTimingBufferSize(size: number): void {
    void size;
    void this.#entries;
  }

  toJSON(): Record<string, unknown> {
    void this.#entries;
    return { timeOrigin: 0 };
  }

  #clear(type: string, name: string | undefined): void {
    const wanted = name === undefined ? undefined : String(name);
    this.#entries = this.#entries.filter((entry) => entry.entryType !== type || (wanted !== undefined && entry.name !== wanted));
  }

  override get [Symbol.toStringTag](): string {
    return "Performance";
  }
}

/** The isolate's one `performance` object. */
export function createPerformance(): Performance {
  return new Performance(PERFORMANCE_KEY);
}
