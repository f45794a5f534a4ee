/**
 * WHATWG Streams from web-streams-polyfill (its ES2018 ponyfill build, which
 * patches no globals), loaded on first use from the host (streams-lazy-module.ts).
 * The implementation is ~65 KB of code: holding and evaluating it at boot
 * would cost every isolate, so the globals are
 * accessors that load it when first read and then replace themselves with
 * plain data properties (as URL does, see url.ts). The prelude itself loads
 * it only when a body is used as a stream.
 *
 * The stream operations the prelude needs where bytes leave the isolate
 * (locked, disturbed, getReader, read, releaseLock, cancel) are captured
 * right after the module is evaluated, before any tenant code can reach the
 * classes, so later patches of their prototypes change nothing here.
 */
import type * as Ponyfill from "web-streams-polyfill";
// These modules define small classes only; what they need is loaded when one is constructed.
import { CompressionStream, DecompressionStream } from "./compression-streams.js";
import { registerInspectView } from "./inspect.js";
import { lazyGlobalDescriptor } from "./lazy-global.js";
import { loadLazyModule } from "./streams-lazy-module.js";
import { registerPlatformClass } from "./structured-clone.js";
import { TextDecoderStream, TextEncoderStream } from "./text-streams.js";
import { fixedLengthStreamClass, identityTransformStreamClass } from "./workers-streams.js";

/** The polyfill's classes, as the prelude types them. */
export type StreamModule = typeof Ponyfill;
/** A ReadableStream of the prelude's implementation. */
export type ReadableStream<R = unknown> = Ponyfill.ReadableStream<R>;
/** A default reader of the prelude's implementation. */
export type ReadableStreamDefaultReader<R = unknown> = Ponyfill.ReadableStreamDefaultReader<R>;
/** A WritableStream of the prelude's implementation. */
export type WritableStream<W = unknown> = Ponyfill.WritableStream<W>;
/** A TransformStream of the prelude's implementation. */
export type TransformStream<I = unknown, O = unknown> = Ponyfill.TransformStream<I, O>;


/** Stream globals the polyfill provides, by name. */
const POLYFILL_GLOBALS = [
  "ByteLengthQueuingStrategy",
  "CountQueuingStrategy",
  "ReadableByteStreamController",
  "ReadableStream",
  "ReadableStreamBYOBReader",
  "ReadableStreamBYOBRequest",
  "ReadableStreamDefaultController",
  "ReadableStreamDefaultReader",
  "TransformStream",
  "TransformStreamDefaultController",
  "WritableStream",
  "WritableStreamDefaultController",
  "WritableStreamDefaultWriter",
] as const;

/** Stream globals the prelude defines on top of the polyfill, and the module each lives in. */
const PRELUDE_GLOBALS: Record<string, () => Function> = {
  TextEncoderStream: () => TextEncoderStream,
  TextDecoderStream: () => TextDecoderStream,
  CompressionStream: () => CompressionStream,
  DecompressionStream: () => DecompressionStream,
  IdentityTransformStream: () => identityTransformStreamClass(),
  FixedLengthStream: () => fixedLengthStreamClass(),
};

/** Operations captured from the intrinsic prototypes at load; see the module comment. */
interface StreamOps {
  locked(stream: ReadableStream): boolean;
  getReader(stream: ReadableStream): ReadableStreamDefaultReader;
  read(reader: ReadableStreamDefaultReader): Promise<{ done: boolean; value?: unknown }>;
  releaseLock(reader: ReadableStreamDefaultReader): void;
  cancelReader(reader: ReadableStreamDefaultReader, reason: unknown): Promise<void>;
}

let loaded: StreamModule | null = null;
let ops: StreamOps | null = null;

const { bind, call } = Function.prototype;
const uncurryThis = bind.bind(call) as <T, A extends unknown[], R>(fn: (this: T, ...args: A) => R) => (self: T, ...args: A) => R;

/** The uncurried getter or method `name` of `prototype`, read from its own descriptor. */
function own<T, A extends unknown[], R>(prototype: object, name: string, kind: "get" | "value"): (self: T, ...args: A) => R {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
  const fn = descriptor?.[kind] as ((this: T, ...args: A) => R) | undefined;
  if (typeof fn !== "function") throw new TypeError(`edgehost prelude: ReadableStream ${name} is missing`);
  return uncurryThis(fn);
}

/** The bundle is minified, so classes lose their names: give the public ones theirs back. */
export function restoreName(ctor: Function, name: string): void {
  if (ctor.name !== name) Object.defineProperty(ctor, "name", { value: name, configurable: true });
}

/** The streams module, evaluating it (and capturing its operations) on the first call. */
export function streamClasses(): StreamModule {
  if (loaded === null) {
    const module = loadLazyModule<StreamModule>("web-streams-polyfill");
    const streamPrototype = module.ReadableStream.prototype;
    const readerPrototype = module.ReadableStreamDefaultReader.prototype;
    ops = {
      locked: own(streamPrototype, "locked", "get"),
      getReader: own(streamPrototype, "getReader", "value"),
      read: own(readerPrototype, "read", "value"),
      releaseLock: own(readerPrototype, "releaseLock", "value"),
      cancelReader: own(readerPrototype, "cancel", "value"),
    };
    for (const name of POLYFILL_GLOBALS) {
      const ctor = module[name] as Function;
      restoreName(ctor, name);
      registerPlatformClass(ctor);
    }
    registerInspectView(module.ReadableStream, (value) => ({ locked: (value as ReadableStream).locked }));
    registerInspectView(module.WritableStream, (value) => ({ locked: (value as WritableStream).locked }));
    loaded = module;
  }
  return loaded;
}

function streamOps(): StreamOps {
  if (ops === null) streamClasses();
  return ops as StreamOps;
}

/** True if `value` is a ReadableStream (without loading the polyfill when nobody has). */
export function isReadableStream(value: unknown): value is ReadableStream {
  return loaded !== null && value instanceof loaded.ReadableStream;
}

/** The stream's `locked`, through the getter captured at load. */
export function isStreamLocked(stream: ReadableStream): boolean {
  return streamOps().locked(stream);
}

/**
 * The Streams Standard's "disturbed" (read from or cancelled). The polyfill
 * keeps it in an own field set by its abstract operations;
 * scripts/build-prelude.js checks that the field still exists.
 */
export function isStreamDisturbed(stream: ReadableStream): boolean {
  return (stream as unknown as { _disturbed?: unknown })._disturbed === true;
}

/** A default reader on `stream` (throws TypeError if it is locked). */
export function acquireReader(stream: ReadableStream): ReadableStreamDefaultReader {
  return streamOps().getReader(stream);
}

/** reader.read() through the captured method. */
export function readChunk(reader: ReadableStreamDefaultReader): Promise<{ done: boolean; value?: unknown }> {
  return streamOps().read(reader);
}

/** reader.releaseLock() through the captured method. */
export function releaseReader(reader: ReadableStreamDefaultReader): void {
  streamOps().releaseLock(reader);
}

/** reader.cancel(reason) through the captured method; never rejects. */
export function cancelReader(reader: ReadableStreamDefaultReader, reason: unknown): Promise<void> {
  return streamOps().cancelReader(reader, reason).then(undefined, () => undefined);
}

/** The value of stream global `name` (loading what it needs). */
function streamGlobal(name: string): Function {
  const fromPrelude = PRELUDE_GLOBALS[name];
  if (fromPrelude !== undefined) {
    const ctor = fromPrelude();
    restoreName(ctor, name);
    registerPlatformClass(ctor);
    return ctor;
  }
  return streamClasses()[name as (typeof POLYFILL_GLOBALS)[number]] as Function;
}

/** Defines the stream globals on `target` as globals that load the implementation when first read (lazy-global.ts). */
export function installLazyStreamGlobals(target: object): void {
  const descriptors: PropertyDescriptorMap = {};
  for (const name of [...POLYFILL_GLOBALS, ...Object.keys(PRELUDE_GLOBALS)]) descriptors[name] = lazyGlobalDescriptor(target, name, () => streamGlobal(name));
  Object.defineProperties(target, descriptors);
}
