/**
 * The Fetch Standard's Body mixin, as a base class of Request and Response.
 * A body is held whole (a string or bytes; Blob and FormData bodies become
 * bytes when extracted): there are no streams yet, so
 * `body` is a minimal one-chunk stream object that exists so that
 * `new Response(request.body)` and `fetch(url, { body: request.body })` pass a
 * body through. Each Body owns its bytes exclusively (inputs are copied,
 * clones copy), so readers can hand out the buffer itself.
 */
import { type Blob, blobBytes, createBlob, isBlob, normaliseBlobType } from "./blob.js";
import { copyBytes, exactBuffer, isBufferSource } from "./buffer-source.js";
import { IntrinsicUint8Array } from "./intrinsics.js";
import { FormData } from "./form-data.js";
import { encodeMultipart } from "./multipart-encode.js";
import { multipartBoundary, parseMultipart } from "./multipart-parse.js";
import type { Headers } from "./headers.js";
import type { WireBody } from "./protocol.js";
import { isURLSearchParams, urlClasses } from "./url.js";
import { utf8DecodeStripBOM, utf8Encode } from "./utf8.js";

/** A body held whole: strings stay strings until someone needs bytes. */
export type BodySource = string | Uint8Array;

/** What "extract a body" yields: the bytes or text and the content type it implies. */
export interface ExtractedBody {
  source: BodySource;
  contentType: string | null;
}

/** What Request and Response accept as a body. */
export type BodyInit = string | ArrayBuffer | ArrayBufferView | Blob | FormData | BodyStream | { toString(): string };

/** Accessors for Request/Response; assigned in the static blocks. */
export let bodySource: (target: Body) => BodySource | null;
export let setBodySource: (target: Body, source: BodySource | null) => void;
export let isBodyUsed: (target: Body) => boolean;
/** Marks the body used and returns its source (the spec's "consume" without the reading). */
export let takeBody: (target: Body) => BodySource | null;
/** The spec's "unusable": the body was read, or its stream is locked to a reader (clone and re-use refuse it). */
export let isBodyUnusable: (target: Body) => boolean;

function bodyUsedError(): TypeError {
  return new TypeError("Body has already been used. It can only be read once; use tee() first if you need to read it twice.");
}

/** The spec's "extract a body" for the inputs supported here. */
export function extractBody(init: BodyInit): ExtractedBody {
  if (typeof init === "string") return { source: init, contentType: "text/plain;charset=UTF-8" };
  if (isBufferSource(init)) return { source: copyBytes(init), contentType: null };
  if (init instanceof BodyStream) {
    const source = takeBody(streamOwner(init));
    return { source: source ?? new IntrinsicUint8Array(0), contentType: null };
  }
  if (isBlob(init)) {
    // Copied: a body's bytes are handed out by its readers, a Blob's never change.
    return { source: copyBytes(blobBytes(init)), contentType: init.type === "" ? null : init.type };
  }
  if (init instanceof FormData) {
    const { body, contentType } = encodeMultipart(init);
    return { source: body, contentType };
  }
  if (isURLSearchParams(init)) {
    return { source: init.toString(), contentType: "application/x-www-form-urlencoded;charset=UTF-8" };
  }
  return { source: String(init), contentType: "text/plain;charset=UTF-8" };
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

/** Shared by Request and Response: the body and its readers. */
export abstract class Body {
  #source: BodySource | null = null;
  #used = false;
  #stream: BodyStream | null = null;

  static {
    bodySource = (target) => target.#source;
    setBodySource = (target, source) => {
      target.#source = source;
    };
    isBodyUsed = (target) => target.#used;
    takeBody = (target) => {
      // A null body is never disturbed (bodyUsed stays false): it reads as empty any number of times.
      if (target.#source === null) return null;
      if (target.#used) throw bodyUsedError();
      target.#used = true;
      return target.#source;
    };
    isBodyUnusable = (target) => target.#used || (target.#stream !== null && target.#stream.locked);
  }

  abstract get headers(): Headers;

  /** The body as a one-chunk stream, or null when there is none. */
  get body(): BodyStream | null {
    if (this.#source === null) return null;
    if (this.#stream === null) this.#stream = newBodyStream(this);
    return this.#stream;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return exactBuffer(this.#consumeBytes());
  }

  async bytes(): Promise<Uint8Array> {
    return this.#consumeBytes();
  }

  async text(): Promise<string> {
    const source = this.#take();
    if (source === null) return "";
    if (typeof source === "string") return source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
    return utf8DecodeStripBOM(source);
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** The body as a Blob whose type is the Content-Type header (normalised), or "". */
  async blob(): Promise<Blob> {
    const bytes = this.#consumeBytes();
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
      const bytes = this.#consumeBytes();
      if (boundary === null) throw new TypeError("Failed to parse body as FormData: missing boundary");
      return parseMultipart(bytes, boundary);
    }
    // As in the spec, the body is consumed before its type is found wanting.
    this.#take();
    throw new TypeError(`Failed to parse body as FormData: unsupported content type "${contentType}"`);
  }

  /** takeBody, refused while a reader holds the body's stream. */
  #take(): BodySource | null {
    if (this.#stream !== null && this.#stream.locked) throw new TypeError("Body is locked to a reader; release the lock before reading it another way");
    return takeBody(this);
  }

  #consumeBytes(): Uint8Array {
    const source = this.#take();
    if (source === null) return new IntrinsicUint8Array(0);
    return typeof source === "string" ? utf8Encode(source) : source;
  }
}

/** Accessors between BodyStream and Body; assigned in the static block. */
let newBodyStream: (owner: Body) => BodyStream;
let streamOwner: (stream: BodyStream) => Body;

/**
 * A minimal stand-in for ReadableStream over a whole body: a reader that
 * yields the body as one chunk, async iteration and cancel. Not constructible
 * by tenants.
 */
export class BodyStream {
  readonly #owner: Body;
  #locked = false;

  static {
    newBodyStream = (owner) => new BodyStream(STREAM_KEY, owner);
    streamOwner = (stream) => stream.#owner;
  }

  constructor(key: unknown, owner: Body) {
    if (key !== STREAM_KEY) throw new TypeError("Illegal constructor");
    this.#owner = owner;
  }

  get locked(): boolean {
    return this.#locked;
  }

  getReader(): { read(): Promise<{ done: boolean; value: Uint8Array | undefined }>; releaseLock(): void; cancel(): Promise<void>; closed: Promise<void> } {
    if (this.#locked) throw new TypeError("ReadableStream is locked");
    this.#locked = true;
    let done = false;
    const owner = this.#owner;
    return {
      read: async () => {
        if (done) return { done: true, value: undefined };
        done = true;
        const source = takeBody(owner);
        const bytes = source === null ? new IntrinsicUint8Array(0) : typeof source === "string" ? utf8Encode(source) : source;
        return bytes.length === 0 ? { done: true, value: undefined } : { done: false, value: bytes };
      },
      releaseLock: () => {
        this.#locked = false;
      },
      cancel: async () => {
        done = true;
        if (!isBodyUsed(owner)) takeBody(owner);
      },
      closed: Promise.resolve(),
    };
  }

  async cancel(): Promise<void> {
    if (this.#locked) throw new TypeError("ReadableStream is locked");
    if (!isBodyUsed(this.#owner)) takeBody(this.#owner);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const reader = this.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || value === undefined) return;
      yield value;
    }
  }

  get [Symbol.toStringTag](): string {
    return "ReadableStream";
  }
}

const STREAM_KEY = Symbol("BodyStream");
