/** File per the File API: a Blob with a name and a last-modified time. */
import { Blob, BLOB_KEY, type BlobPart, type BlobPropertyBag, blobBytes, processBlobParts, readBlobOptions } from "./blob.js";

/** Options of the File constructor. */
export interface FilePropertyBag extends BlobPropertyBag {
  /** Milliseconds since the epoch; defaults to now. */
  lastModified?: number;
}

/** Accessor for FormData, multipart parsing and structuredClone; assigned in the static block. */
export let createFile: (bytes: Uint8Array, type: string, name: string, lastModified: number) => File;
/** True for real Files, by internal slot. */
export let isFile: (value: unknown) => value is File;

/** WebIDL `long long` conversion of lastModified (NaN and infinities become 0). */
function toLongLong(value: unknown): number {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  return Math.trunc(number);
}

/** A named Blob. */
export class File extends Blob {
  #name = "";
  #lastModified = 0;

  static {
    createFile = (bytes, type, name, lastModified) => {
      const file = new File(BLOB_KEY as unknown as BlobPart[], "", undefined, bytes, type);
      file.#name = name;
      file.#lastModified = lastModified;
      return file;
    };
    isFile = (value): value is File => typeof value === "object" && value !== null && #name in value;
  }

  constructor(parts: Iterable<BlobPart>, name: string, options?: FilePropertyBag);
  /** @internal */
  constructor(parts: Iterable<BlobPart>, name: string, options: FilePropertyBag | undefined, bytes: Uint8Array, type: string);
  constructor(parts: Iterable<BlobPart>, name: string, options?: FilePropertyBag, bytes?: Uint8Array, type?: string) {
    if ((parts as unknown) === BLOB_KEY && bytes !== undefined && type !== undefined) {
      super(parts, {}, bytes, type);
      return;
    }
    if (arguments.length < 2) throw new TypeError("File: 2 arguments required");
    const read = readBlobOptions(options);
    super(BLOB_KEY as unknown as BlobPart[], {}, processBlobParts(parts, read.endings), read.type);
    this.#name = String(name);
    const lastModified = options === undefined || options === null ? undefined : options.lastModified;
    this.#lastModified = lastModified === undefined ? Date.now() : toLongLong(lastModified);
  }

  /** The file name as given (no path handling). */
  get name(): string {
    return this.#name;
  }

  /** Milliseconds since the epoch. */
  get lastModified(): number {
    return this.#lastModified;
  }

  override get [Symbol.toStringTag](): string {
    return "File";
  }
}

/** A File with the bytes and type of `blob`, named `name` (for FormData entries). */
export function fileFromBlob(blob: Blob, name: string, lastModified: number): File {
  return createFile(blobBytes(blob), blob.type, name, lastModified);
}
