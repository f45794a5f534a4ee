/** The `console` object: formats like Node and sends each line to the host log. */
import { host } from "./host.js";
import { clipString } from "./intrinsics.js";
import { format, inspect } from "./inspect.js";
import type { LogLevel } from "./protocol.js";
import { currentRequestId } from "./request-context.js";

let groupIndent = "";
const counts = new Map<string, number>();
const timers = new Map<string, number>();

/** The host keeps 16 Ki characters of a log line; more would only be copied to be cut. */
const MAX_LOG_CHARS = 16_384;

function emit(level: LogLevel, message: string): void {
  const clipped = clipString(message, MAX_LOG_CHARS + 1);
  const text = groupIndent === "" ? clipped : clipped.replace(/^/gm, groupIndent);
  host.log(level, currentRequestId(), clipString(text, MAX_LOG_CHARS + 1));
}

function label(value: unknown): string {
  return value === undefined ? "default" : String(value);
}

/** Builds the console object the tenant sees. */
export function createConsole(): Record<string, (...args: unknown[]) => void> {
  const methods: Record<string, (...args: unknown[]) => void> = {
    log: (...args) => emit("log", format(args)),
    info: (...args) => emit("info", format(args)),
    debug: (...args) => emit("debug", format(args)),
    warn: (...args) => emit("warn", format(args)),
    error: (...args) => emit("error", format(args)),
    trace: (...args) => {
      const stack = (new Error().stack ?? "").split("\n").slice(2).join("\n");
      emit("debug", `Trace${args.length > 0 ? `: ${format(args)}` : ""}\n${stack}`);
    },
    assert: (condition, ...args) => {
      if (condition) return;
      emit("error", args.length > 0 ? `Assertion failed: ${format(args)}` : "Assertion failed");
    },
    dir: (value) => emit("log", inspect(value)),
    dirxml: (...args) => emit("log", format(args)),
    table: (...args) => emit("log", format(args)),
    count: (name) => {
      const key = label(name);
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      emit("info", `${key}: ${count}`);
    },
    countReset: (name) => {
      counts.delete(label(name));
    },
    group: (...args) => {
      if (args.length > 0) emit("log", format(args));
      groupIndent += "  ";
    },
    groupEnd: () => {
      groupIndent = groupIndent.slice(2);
    },
    time: (name) => {
      timers.set(label(name), Date.now());
    },
    timeLog: (name, ...args) => {
      const key = label(name);
      const start = timers.get(key);
      if (start === undefined) return emit("warn", `No such label '${key}' for console.timeLog()`);
      emit("info", `${key}: ${Date.now() - start}ms${args.length > 0 ? ` ${format(args)}` : ""}`);
    },
    timeEnd: (name) => {
      const key = label(name);
      const start = timers.get(key);
      if (start === undefined) return emit("warn", `No such label '${key}' for console.timeEnd()`);
      timers.delete(key);
      emit("info", `${key}: ${Date.now() - start}ms`);
    },
  };
  methods["groupCollapsed"] = methods["group"] as (...args: unknown[]) => void;
  return methods;
}
