/** TextEncoder and TextDecoder (UTF-8 only, as in Workers). */
import { type BufferSource, isBufferSource, viewBytes } from "./buffer-source.js";
import { Utf8DecoderState, utf8DecodeChunk, utf8Encode, utf8EncodeInto } from "./utf8.js";

/** Labels the Encoding Standard maps to UTF-8. */
const UTF8_LABELS = new Set(["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"]);

/** Encodes strings as UTF-8. */
export class TextEncoder {
  get encoding(): string {
    return "utf-8";
  }

  encode(input: unknown = ""): Uint8Array {
    return utf8Encode(String(input));
  }

  encodeInto(source: unknown, destination: Uint8Array): { read: number; written: number } {
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError("TextEncoder.encodeInto: destination must be a Uint8Array");
    }
    return utf8EncodeInto(String(source), destination);
  }

  get [Symbol.toStringTag](): string {
    return "TextEncoder";
  }
}

/** Options of the TextDecoder constructor. */
export interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

/** Decodes UTF-8, optionally streaming across calls. */
export class TextDecoder {
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  readonly #state = new Utf8DecoderState();
  #bomSeen = false;
  #doNotFlush = false;

  constructor(label: unknown = "utf-8", options: TextDecoderOptions = {}) {
    const normalised = String(label).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "").toLowerCase();
    if (!UTF8_LABELS.has(normalised)) {
      throw new RangeError(`TextDecoder: the "${String(label)}" encoding is not supported`);
    }
    this.#fatal = Boolean(options?.fatal);
    this.#ignoreBOM = Boolean(options?.ignoreBOM);
  }

  get encoding(): string {
    return "utf-8";
  }

  get fatal(): boolean {
    return this.#fatal;
  }

  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  decode(input?: BufferSource, options?: { stream?: boolean }): string {
    if (input !== undefined && !isBufferSource(input)) {
      throw new TypeError("TextDecoder.decode: input must be an ArrayBuffer or ArrayBufferView");
    }
    if (!this.#doNotFlush) {
      this.#state.reset();
      this.#bomSeen = false;
    }
    const stream = Boolean(options?.stream);
    this.#doNotFlush = stream;
    const bytes = input === undefined ? new Uint8Array(0) : viewBytes(input);
    let text: string;
    try {
      text = utf8DecodeChunk(this.#state, bytes, this.#fatal, !stream);
    } catch (error) {
      this.#state.reset();
      this.#doNotFlush = false;
      throw error;
    }
    if (!this.#ignoreBOM && !this.#bomSeen && text.length > 0) {
      this.#bomSeen = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return text;
  }

  get [Symbol.toStringTag](): string {
    return "TextDecoder";
  }
}
