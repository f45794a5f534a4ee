/**
 * A small `util.inspect` / `util.format`: enough that console output from an
 * app reads as it does under Node or Miniflare, without Node's code. Depth is
 * limited, cycles are marked, nothing calls tenant getters except `toJSON`
 * for %j and `toString` for %s on objects that define one.
 */

/** Objects nested deeper than this print as `[Object]`. */
const DEFAULT_DEPTH = 2;
/** Arrays, maps and sets print at most this many entries. */
const MAX_ENTRIES = 100;
/** Entries that fit in this many characters stay on one line. */
const BREAK_LENGTH = 72;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Extra views for objects whose state is private (Headers, Request, ...). */
const customViews = new Map<Function, (value: object) => Record<string, unknown>>();

/** Makes `inspect` show instances of `ctor` as the record `view` returns. */
export function registerInspectView(ctor: Function, view: (value: object) => Record<string, unknown>): void {
  customViews.set(ctor, view);
}

function quote(text: string): string {
  const escaped = text.replace(/[\\\n\r\t\b\f\v]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v" })[c] ?? c);
  if (!escaped.includes("'")) return `'${escaped}'`;
  if (!escaped.includes('"')) return `"${escaped}"`;
  if (!escaped.includes("`") && !escaped.includes("${")) return `\`${escaped}\``;
  return `'${escaped.replace(/'/g, "\\'")}'`;
}

function formatKey(key: string | symbol): string {
  if (typeof key === "symbol") return `[${String(key)}]`;
  return IDENTIFIER.test(key) ? key : quote(key);
}

function constructorName(value: object): string | null {
  let proto: object | null = Object.getPrototypeOf(value);
  while (proto !== null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, "constructor");
    if (descriptor !== undefined && typeof descriptor.value === "function" && descriptor.value.name !== "") {
      return descriptor.value.name as string;
    }
    proto = Object.getPrototypeOf(proto);
  }
  return null;
}

function formatFunction(fn: Function): string {
  let source = "";
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    // Proxies and some host functions refuse toString; the name is enough.
  }
  if (source.startsWith("class")) return fn.name ? `[class ${fn.name}]` : "[class (anonymous)]";
  const kind = constructorName(fn) ?? "Function";
  return fn.name ? `[${kind}: ${fn.name}]` : `[${kind} (anonymous)]`;
}

function formatError(error: Error, nested: boolean): string {
  let name = "Error";
  let message = "";
  let stack: unknown;
  try {
    name = String(error.name);
    message = String(error.message);
    stack = error.stack;
  } catch {
    // A throwing getter: fall back to what we have.
  }
  const head = message === "" ? name : `${name}: ${message}`;
  if (nested) return `[${head}]`;
  return typeof stack === "string" && stack !== "" ? stack : head;
}

function join(open: string, entries: string[], close: string, indent: string): string {
  if (entries.length === 0) return `${open.trimEnd()}${close.trimStart()}`;
  const totalLength = entries.reduce((sum, entry) => sum + entry.length + 2, open.length);
  if (totalLength <= BREAK_LENGTH && !entries.some((entry) => entry.includes("\n"))) {
    return `${open}${entries.join(", ")}${close}`;
  }
  const inner = `${indent}  `;
  return `${open.trimEnd()}\n${inner}${entries.join(`,\n${inner}`)}\n${indent}${close.trimStart()}`;
}

function formatValue(value: unknown, depth: number, seen: object[], indent: string): string {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "bigint":
      return `${value}n`;
    case "boolean":
    case "undefined":
    case "symbol":
      return String(value);
    case "function":
      return formatFunction(value);
  }
  if (value === null) return "null";
  const object = value as object;
  if (seen.includes(object)) return "[Circular *1]";
  if (object instanceof Error) return formatError(object, seen.length > 0);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
  if (object instanceof RegExp) return String(object);
  if (object instanceof Promise) return "Promise { <pending> }";
  if (object instanceof WeakMap) return "WeakMap { <items unknown> }";
  if (object instanceof WeakSet) return "WeakSet { <items unknown> }";
  if (object instanceof ArrayBuffer) return `ArrayBuffer { byteLength: ${object.byteLength} }`;
  if (object instanceof DataView) return `DataView { byteLength: ${object.byteLength}, byteOffset: ${object.byteOffset} }`;

  const name = constructorName(object);
  const view = findCustomView(object);
  if (depth < 0) {
    if (Array.isArray(object)) return "[Array]";
    return `[${name ?? "Object"}]`;
  }
  seen.push(object);
  try {
    const next = (item: unknown): string => formatValue(item, depth - 1, seen, `${indent}  `);
    if (Array.isArray(object) || ArrayBuffer.isView(object)) {
      const list = object as ArrayLike<unknown>;
      const entries: string[] = [];
      const shown = Math.min(list.length, MAX_ENTRIES);
      for (let i = 0; i < shown; i++) entries.push(next(list[i]));
      if (list.length > shown) entries.push(`... ${list.length - shown} more item${list.length - shown > 1 ? "s" : ""}`);
      const prefix = Array.isArray(object) ? (name === "Array" ? "" : `${name ?? "Array"}(${list.length}) `) : `${name ?? "TypedArray"}(${list.length}) `;
      return join(`${prefix}[ `, entries, " ]", indent);
    }
    if (object instanceof Map || object instanceof Set) {
      const entries: string[] = [];
      let count = 0;
      for (const entry of object instanceof Map ? object.entries() : object.values()) {
        if (count++ >= MAX_ENTRIES) {
          entries.push(`... ${object.size - MAX_ENTRIES} more items`);
          break;
        }
        entries.push(Array.isArray(entry) && object instanceof Map ? `${next(entry[0])} => ${next(entry[1])}` : next(entry));
      }
      return join(`${name ?? (object instanceof Map ? "Map" : "Set")}(${object.size}) { `, entries, " }", indent);
    }
    const source = view !== null ? view(object) : object;
    const entries: string[] = [];
    for (const key of Reflect.ownKeys(source)) {
      const descriptor = Reflect.getOwnPropertyDescriptor(source, key);
      if (descriptor === undefined || !descriptor.enumerable) continue;
      const shown = "value" in descriptor ? next(descriptor.value) : descriptor.get && descriptor.set ? "[Getter/Setter]" : descriptor.get ? "[Getter]" : "[Setter]";
      entries.push(`${formatKey(key)}: ${shown}`);
    }
    const prefix = name === null ? "[Object: null prototype] " : name === "Object" ? "" : `${name} `;
    return join(`${prefix}{ `, entries, " }", indent);
  } finally {
    seen.pop();
  }
}

function findCustomView(object: object): ((value: object) => Record<string, unknown>) | null {
  for (const [ctor, view] of customViews) {
    if (object instanceof ctor) return view;
  }
  return null;
}

/** A readable rendering of any value (strings quoted), like `util.inspect`. */
export function inspect(value: unknown, depth: number = DEFAULT_DEPTH): string {
  try {
    return formatValue(value, depth, [], "");
  } catch (error) {
    // A Proxy or a throwing accessor must not break logging.
    return `[object: ${error instanceof Error ? error.message : "unprintable"}]`;
  }
}

function safeJson(value: unknown): string {
  try {
    return String(JSON.stringify(value));
  } catch (error) {
    if (error instanceof TypeError && /circular/i.test(error.message)) return "[Circular]";
    throw error;
  }
}

function formatString(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return String(value);
  if (typeof value !== "object" || value === null) return Object.is(value, -0) ? "-0" : String(value);
  if (value instanceof Error) return formatError(value, false);
  const own = (value as { toString?: unknown }).toString;
  if (typeof own === "function" && own !== Object.prototype.toString && own !== Array.prototype.toString) {
    return String(value);
  }
  return inspect(value, 0);
}

/** Joins console arguments the way `util.format` does, including %s %d %i %f %j %o %O %c %%. */
export function format(args: readonly unknown[]): string {
  const first = args[0];
  let index = 0;
  let out = "";
  if (typeof first === "string") {
    index = 1;
    if (args.length === 1 || !first.includes("%")) out = first;
    else {
      out = first.replace(/%[sdifjoOc%]/g, (token) => {
        if (token === "%%") return "%";
        if (index >= args.length) return token;
        const arg = args[index++];
        switch (token) {
          case "%s":
            return formatString(arg);
          case "%d":
            return typeof arg === "bigint" ? `${arg}n` : typeof arg === "object" && arg !== null ? "NaN" : String(Number(arg));
          case "%i":
            return typeof arg === "bigint" ? `${arg}n` : typeof arg === "object" && arg !== null ? "NaN" : String(parseInt(String(arg), 10));
          case "%f":
            return typeof arg === "symbol" ? "NaN" : String(parseFloat(String(arg)));
          case "%j":
            return safeJson(arg);
          case "%o":
            return inspect(arg, 4);
          case "%O":
            return inspect(arg);
          default:
            // %c carries CSS, which has no meaning in a log line.
            return "";
        }
      });
    }
  }
  for (; index < args.length; index++) {
    const arg = args[index];
    const piece = typeof arg === "string" ? arg : inspect(arg);
    out = out === "" && index === 0 ? piece : `${out} ${piece}`;
  }
  return out;
}
