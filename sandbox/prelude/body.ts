/**
 * The Fetch Standard's Body mixin, as a base class of Request and Response.
 * A body is held whole (a string or bytes; Blob and FormData bodies become
 * bytes when extracted) or is a ReadableStream. Whole
 * bodies stay whole on the hot path: no stream exists until someone reads
 * `body`, which then turns the source into a one-chunk byte stream that
 * becomes the body from then on. Each Body owns its bytes exclusively
 * (inputs are copied, clones copy), so readers can hand out the buffer itself.
 */
import { type Blob, blobBytes, createBlob, isBlob, normaliseBlobType } from "./blob.js";
import { copyBytes, exactBuffer, isBufferSource } from "./buffer-source.js";
import { IntrinsicUint8Array, typedArrayByteLength } from "./intrinsics.js";
import { FormData } from "./form-data.js";
import { encodeMultipart } from "./multipart-encode.js";
import { multipartBoundary, parseMultipart } from "./multipart-parse.js";
import type { Headers } from "./headers.js";
import type { WireBody } from "./protocol.js";
import { acquireReader, isReadableStream, isStreamDisturbed, isStreamLocked, type ReadableStream, readChunk, streamClasses } from "./streams.js";
import { readAllBytes } from "./streams-collect.js";
import { isURLSearchParams, urlClasses } from "./url.js";
import { utf8DecodeStripBOM, utf8Encode } from "./utf8.js";

/** A body held whole: strings stay strings until someone needs bytes. */
export type BodySource = string | Uint8Array;

/** What "extract a body" yields: the bytes or text (or else the stream) and the content type it implies. */
export interface ExtractedBody {
  source: BodySource | null;
  /** The body's stream when it is a stream body (source is null then). */
  stream: ReadableStream | null;
  contentType: string | null;
}

/** What Request and Response accept as a body. */
export type BodyInit = string | ArrayBuffer | ArrayBufferView | Blob | FormData | ReadableStream | { toString(): string };

/** Accessors for Request/Response; assigned in the static blocks. */
export let bodySource: (target: Body) => BodySource | null;
export let setBodySource: (target: Body, source: BodySource | null) => void;
/** The Fetch Standard's bodyUsed: a whole body was consumed, or the body's stream is disturbed. */
export let isBodyUsed: (target: Body) => boolean;
/** Marks the body used and returns its source (the spec's "consume" without the reading). */
export let takeBody: (target: Body) => BodySource | null;
/** The body's stream if the body is (now) a stream, else null. */
export let bodyStream: (target: Body) => ReadableStream | null;
/** Makes `stream` the body (replacing any whole source). */
export let setBodyStream: (target: Body, stream: ReadableStream) => void;
/** Makes the stream `factory` makes, when first needed, the body. */
export let setLazyBodyStream: (target: Body, factory: () => ReadableStream) => void;
/** True if the body is not null (whole or a stream). */
export let hasBody: (target: Body) => boolean;

function bodyUsedError(): TypeError {
  return new TypeError("Body has already been used. It can only be read once; use tee() first if you need to read it twice.");
}

/** The spec's "extract a body" for the inputs supported here. */
export function extractBody(init: BodyInit): ExtractedBody {
  if (typeof init === "string") return { source: init, stream: null, contentType: "text/plain;charset=UTF-8" };
  if (isBufferSource(init)) return { source: copyBytes(init), stream: null, contentType: null };
  if (isReadableStream(init)) {
    if (isStreamLocked(init) || isStreamDisturbed(init)) throw new TypeError("The body stream is locked or has already been read");
    return { source: null, stream: init, contentType: null };
  }
  if (isBlob(init)) {
    // Copied: a body's bytes are handed out by its readers, a Blob's never change.
    return { source: copyBytes(blobBytes(init)), stream: null, contentType: init.type === "" ? null : init.type };
  }
  if (init instanceof FormData) {
    const { body, contentType } = encodeMultipart(init);
    return { source: body, stream: null, contentType };
  }
  if (isURLSearchParams(init)) {
    return { source: init.toString(), stream: null, contentType: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  return { source: String(init), stream: null, contentType: "text/plain;charset=UTF-8" };
}

/** The body as it leaves the isolate (see protocol.ts WireBody). */
export function toWireBody(source: BodySource | null): WireBody {
  if (source === null || typeof source === "string") return source;
  return exactBuffer(source);
}

/** The body as bytes for the host (fetch request bodies). */
export function toWireBytes(source: BodySource | null): ArrayBuffer | null {
  if (source === null) return null;
  return exactBuffer(typeof source === "string" ? utf8Encode(source) : source);
}

/** A copy of a source, for clone() (the intrinsic copy: `slice` can be patched). */
export function cloneSource(source: BodySource | null): BodySource | null {
  return source === null || typeof source === "string" ? source : copyBytes(source);
}

/** Sets the extracted body on `target`: its whole source or its stream. */
export function setExtractedBody(target: Body, extracted: ExtractedBody): void {
  if (extracted.stream !== null) setBodyStream(target, extracted.stream);
  else setBodySource(target, extracted.source);
}

/**
 * Copies the body of `from` into `to` for clone(): a whole source is copied;
 * a stream body is teed, `from` keeping one branch and `to` getting the other.
 */
export function cloneBodyInto(from: Body, to: Body): void {
  const stream = bodyStream(from);
  if (stream === null) {
    setBodySource(to, cloneSource(bodySource(from)));
    return;
  }
  const [mine, theirs] = stream.tee();
  setBodyStream(from, mine);
  setBodyStream(to, theirs);
}

/** A one-chunk byte stream over a whole body, encoding a string only when first pulled. */
function wholeBodyStream(source: BodySource): ReadableStream<Uint8Array> {
  return new (streamClasses().ReadableStream)({
    type: "bytes",
    pull(controller) {
      const bytes = typeof source === "string" ? utf8Encode(source) : source;
      if (typedArrayByteLength(bytes) > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** The body stream of an already consumed whole body: empty, locked and disturbed, as reading would leave it. */
function consumedBodyStream(): ReadableStream<Uint8Array> {
  const stream = wholeBodyStream("");
  readChunk(acquireReader(stream)).then(undefined, () => undefined);
  return stream;
}

/** Shared by Request and Response: the body and its readers. */
export abstract class Body {
  #source: BodySource | null = null;
  #used = false;
  #streamValue: ReadableStream | null = null;
  /**
   * A stream body not made yet: an incoming body the host streams is a
   * ReadableStream only once the app touches it, so a request whose body
   * the app ignores never loads the stream classes.
   */
  #streamFactory: (() => ReadableStream) | null = null;

  get #stream(): ReadableStream | null {
    const factory = this.#streamFactory;
    if (factory !== null) {
      this.#streamFactory = null;
      this.#streamValue = factory();
    }
    return this.#streamValue;
  }

  set #stream(stream: ReadableStream | null) {
    this.#streamFactory = null;
    this.#streamValue = stream;
  }

  static {
    bodySource = (target) => target.#source;
    setBodySource = (target, source) => {
      target.#source = source;
      target.#stream = null;
    };
    isBodyUsed = (target) => target.#used || (target.#stream !== null && isStreamDisturbed(target.#stream));
    takeBody = (target) => {
      // A null body is never disturbed (bodyUsed stays false): it reads as empty any number of times.
      if (target.#source === null) return null;
      if (target.#used) throw bodyUsedError();
      target.#used = true;
      return target.#source;
    };
    bodyStream = (target) => target.#stream;
    setBodyStream = (target, stream) => {
      target.#source = null;
      target.#stream = stream;
    };
    setLazyBodyStream = (target, factory) => {
      target.#source = null;
      target.#stream = null;
      target.#streamFactory = factory;
    };
    hasBody = (target) => target.#source !== null || target.#stream !== null;
  }

  abstract get headers(): Headers;

  /** The body as a ReadableStream (made on first read from a whole body), or null when there is none. */
  get body(): ReadableStream<Uint8Array> | null {
    if (this.#stream === null) {
      if (this.#source === null) return null;
      this.#stream = this.#used ? consumedBodyStream() : wholeBodyStream(this.#source);
      this.#source = null;
    }
    return this.#stream as ReadableStream<Uint8Array>;
  }

  get bodyUsed(): boolean {
    return isBodyUsed(this);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return exactBuffer(await this.#consumeBytes());
  }

  async bytes(): Promise<Uint8Array> {
    return this.#consumeBytes();
  }

  async text(): Promise<string> {
    if (this.#stream !== null) return utf8DecodeStripBOM(await this.#consumeBytes());
    const source = takeBody(this);
    if (source === null) return "";
    if (typeof source === "string") return source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
    return utf8DecodeStripBOM(source);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** The body as a Blob whose type is the Content-Type header (normalised), or "". */
  async blob(): Promise<Blob> {
    const bytes = await this.#consumeBytes();
    return createBlob(bytes, normaliseBlobType(this.headers.get("content-type") ?? ""));
  }

  /** The body parsed as multipart/form-data or urlencoded, by its Content-Type; a TypeError for anything else or malformed input. */
  async formData(): Promise<FormData> {
    const contentType = this.headers.get("content-type") ?? "";
    const essence = (contentType.split(";")[0] ?? "").trim().toLowerCase();
    if (essence === "application/x-www-form-urlencoded") {
      const params = new (urlClasses().URLSearchParams)(await this.text());
      const form = new FormData();
      for (const [name, value] of params as unknown as Iterable<[string, string]>) form.append(name, value);
      return form;
    }
    if (essence === "multipart/form-data") {
      const boundary = multipartBoundary(contentType);
      const bytes = await this.#consumeBytes();
      if (boundary === null) throw new TypeError("Failed to parse body as FormData: missing boundary");
      return parseMultipart(bytes, boundary);
    }
    // As in the spec, the body is consumed before its type is found wanting.
    await this.#consumeBytes();
    throw new TypeError(`Failed to parse body as FormData: unsupported content type "${contentType}"`);
  }

  /** The spec's "consume body": a whole body directly, a stream body by reading it to the end. */
  async #consumeBytes(): Promise<Uint8Array> {
    const stream = this.#stream;
    if (stream !== null) {
      if (isStreamLocked(stream) || isStreamDisturbed(stream)) throw bodyUsedError();
      return readAllBytes(stream);
    }
    const source = takeBody(this);
    if (source === null) return new IntrinsicUint8Array(0);
    return typeof source === "string" ? utf8Encode(source) : source;
  }
}
