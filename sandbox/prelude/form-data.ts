/**
 * FormData per the XHR Standard: an ordered list of entries whose values are
 * strings or Files (a Blob appended becomes a File named "blob"). The
 * multipart/form-data encoding and parsing live in multipart-encode.ts and
 * multipart-parse.ts.
 */
import { isBlob } from "./blob.js";
import { type File, fileFromBlob, isFile } from "./file.js";

/** An entry's value. */
export type FormDataEntryValue = string | File;
type Entry = [string, FormDataEntryValue];

/** Accessor for the body code; assigned in the class's static block. */
export let formDataEntries: (form: FormData) => ReadonlyArray<Entry>;

/** The spec's "create an entry": strings stay strings, Blobs become Files (renamed if a filename is given). */
function entryValue(value: unknown, filename: unknown, argumentCount: number): FormDataEntryValue {
  if (!isBlob(value)) {
    if (argumentCount > 2) throw new TypeError("FormData: a filename is allowed only with a Blob value");
    return String(value);
  }
  if (isFile(value) && filename === undefined) return value;
  const name = filename !== undefined ? String(filename) : isFile(value) ? value.name : "blob";
  return fileFromBlob(value, name, isFile(value) && filename === undefined ? value.lastModified : Date.now());
}

/** An ordered list of name/value entries. */
export class FormData {
  #entries: Entry[] = [];

  static {
    formDataEntries = (form) => form.#entries;
  }

  constructor(form?: unknown) {
    if (form !== undefined) throw new TypeError("FormData: constructing from a form element is not supported");
  }

  append(name: string, value: unknown, filename?: string): void {
    if (arguments.length < 2) throw new TypeError("FormData.append: 2 arguments required");
    this.#entries.push([String(name), entryValue(value, filename, arguments.length)]);
  }

  delete(name: string): void {
    const key = String(name);
    this.#entries = this.#entries.filter((entry) => entry[0] !== key);
  }

  get(name: string): FormDataEntryValue | null {
    const key = String(name);
    const entry = this.#entries.find((item) => item[0] === key);
    return entry === undefined ? null : entry[1];
  }

  getAll(name: string): FormDataEntryValue[] {
    const key = String(name);
    return this.#entries.filter((entry) => entry[0] === key).map((entry) => entry[1]);
  }

  has(name: string): boolean {
    const key = String(name);
    return this.#entries.some((entry) => entry[0] === key);
  }

  set(name: string, value: unknown, filename?: string): void {
    if (arguments.length < 2) throw new TypeError("FormData.set: 2 arguments required");
    const key = String(name);
    const item = entryValue(value, filename, arguments.length);
    const first = this.#entries.findIndex((entry) => entry[0] === key);
    if (first === -1) {
      this.#entries.push([key, item]);
      return;
    }
    this.#entries = this.#entries.filter((entry, index) => index <= first || entry[0] !== key);
    (this.#entries[first] as Entry)[1] = item;
  }

  forEach(callback: (value: FormDataEntryValue, name: string, form: FormData) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("FormData.forEach: callback must be a function");
    for (let i = 0; i < this.#entries.length; i++) {
      const [name, value] = this.#entries[i] as Entry;
      callback.call(thisArg, value, name, this);
    }
  }

  *entries(): IterableIterator<[string, FormDataEntryValue]> {
    for (let i = 0; i < this.#entries.length; i++) {
      const [name, value] = this.#entries[i] as Entry;
      yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<FormDataEntryValue> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, FormDataEntryValue]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "FormData";
  }
}
