/**
 * TextEncoderStream and TextDecoderStream (Encoding Standard), UTF-8 only as
 * TextEncoder/TextDecoder are. Each wraps a TransformStream and exposes its
 * two sides, as the spec's GenericTransformStream mixin does (they are not
 * TransformStream subclasses). Loaded by streams.ts on first use.
 */
import { isBufferSource } from "./buffer-source.js";
import { IntrinsicUint8Array } from "./intrinsics.js";
import { streamClasses, type ReadableStream, type TransformStream, type WritableStream } from "./streams.js";
import { TextDecoder, type TextDecoderOptions } from "./text-encoding.js";
import { utf8Encode } from "./utf8.js";

/** U+FFFD in UTF-8: what a lone surrogate at the end of the stream becomes. */
const REPLACEMENT_BYTES = [0xef, 0xbf, 0xbd];

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** A stream of strings in, UTF-8 bytes out. */
export class TextEncoderStream {
  readonly #transform: TransformStream<unknown, Uint8Array>;

  constructor() {
    // A high surrogate at the end of one chunk may pair with a low surrogate at the start of the next.
    let pendingHighSurrogate = "";
    this.#transform = new (streamClasses().TransformStream)<unknown, Uint8Array>({
      transform(chunk, controller) {
        let text = pendingHighSurrogate + String(chunk);
        pendingHighSurrogate = "";
        if (text.length > 0 && isHighSurrogate(text.charCodeAt(text.length - 1))) {
          pendingHighSurrogate = text.slice(-1);
          text = text.slice(0, -1);
        }
        if (text.length > 0) controller.enqueue(utf8Encode(text));
      },
      flush(controller) {
        if (pendingHighSurrogate !== "") controller.enqueue(new IntrinsicUint8Array(REPLACEMENT_BYTES));
      },
    });
  }

  get encoding(): string {
    return "utf-8";
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#transform.readable;
  }

  get writable(): WritableStream<unknown> {
    return this.#transform.writable;
  }

  get [Symbol.toStringTag](): string {
    return "TextEncoderStream";
  }
}

/** A stream of UTF-8 bytes (any BufferSource) in, strings out; characters split across chunks are joined. */
export class TextDecoderStream {
  readonly #decoder: TextDecoder;
  readonly #transform: TransformStream<unknown, string>;

  constructor(label: unknown = "utf-8", options: TextDecoderOptions = {}) {
    const decoder = new TextDecoder(label, options);
    this.#decoder = decoder;
    this.#transform = new (streamClasses().TransformStream)<unknown, string>({
      transform(chunk, controller) {
        if (!isBufferSource(chunk)) throw new TypeError("TextDecoderStream: chunks must be ArrayBuffer or ArrayBufferView");
        const text = decoder.decode(chunk, { stream: true });
        if (text.length > 0) controller.enqueue(text);
      },
      flush(controller) {
        const text = decoder.decode();
        if (text.length > 0) controller.enqueue(text);
      },
    });
  }

  get encoding(): string {
    return this.#decoder.encoding;
  }

  get fatal(): boolean {
    return this.#decoder.fatal;
  }

  get ignoreBOM(): boolean {
    return this.#decoder.ignoreBOM;
  }

  get readable(): ReadableStream<string> {
    return this.#transform.readable;
  }

  get writable(): WritableStream<unknown> {
    return this.#transform.writable;
  }

  get [Symbol.toStringTag](): string {
    return "TextDecoderStream";
  }
}
