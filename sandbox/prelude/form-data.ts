/**
 * FormData with string entries (no Blob/File yet: a value is converted to a
 * string), and its multipart/form-data encoding and parsing for bodies.
 */

type Entry = [string, string];

/** Accessor for the body code; assigned in the class's static block. */
export let formDataEntries: (form: FormData) => ReadonlyArray<Entry>;

/** An ordered list of name/value entries. */
export class FormData {
  #entries: Entry[] = [];

  static {
    formDataEntries = (form) => form.#entries;
  }

  constructor(form?: unknown) {
    if (form !== undefined) throw new TypeError("FormData: constructing from a form element is not supported");
  }

  append(name: string, value: unknown): void {
    if (arguments.length < 2) throw new TypeError("FormData.append: 2 arguments required");
    this.#entries.push([String(name), String(value)]);
  }

  delete(name: string): void {
    const key = String(name);
    this.#entries = this.#entries.filter((entry) => entry[0] !== key);
  }

  get(name: string): string | null {
    const key = String(name);
    const entry = this.#entries.find((item) => item[0] === key);
    return entry === undefined ? null : entry[1];
  }

  getAll(name: string): string[] {
    const key = String(name);
    return this.#entries.filter((entry) => entry[0] === key).map((entry) => entry[1]);
  }

  has(name: string): boolean {
    const key = String(name);
    return this.#entries.some((entry) => entry[0] === key);
  }

  set(name: string, value: unknown): void {
    if (arguments.length < 2) throw new TypeError("FormData.set: 2 arguments required");
    const key = String(name);
    const text = String(value);
    const first = this.#entries.findIndex((entry) => entry[0] === key);
    if (first === -1) {
      this.#entries.push([key, text]);
      return;
    }
    this.#entries = this.#entries.filter((entry, index) => index <= first || entry[0] !== key);
    (this.#entries[first] as Entry)[1] = text;
  }

  forEach(callback: (value: string, name: string, form: FormData) => void, thisArg?: unknown): void {
    if (typeof callback !== "function") throw new TypeError("FormData.forEach: callback must be a function");
    for (let i = 0; i < this.#entries.length; i++) {
      const [name, value] = this.#entries[i] as Entry;
      callback.call(thisArg, value, name, this);
    }
  }

  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#entries.length; i++) {
      const [name, value] = this.#entries[i] as Entry;
      yield [name, value];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "FormData";
  }
}

function escapeName(name: string): string {
  return name.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
}

/** The multipart/form-data body of `form` and its content type. */
export function encodeMultipart(form: FormData): { body: string; contentType: string } {
  let boundary = "----edgehostFormBoundary";
  for (let i = 0; i < 16; i++) boundary += "0123456789abcdef".charAt(Math.floor(Math.random() * 16));
  let body = "";
  for (const [name, value] of formDataEntries(form)) {
    body += `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${value}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The boundary parameter of a multipart/form-data content type, or null. */
export function multipartBoundary(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match === null ? null : (match[1] ?? match[2] ?? null);
}

/** Parses a multipart/form-data body (already decoded as UTF-8) into FormData; file parts become their text. */
export function decodeMultipart(text: string, boundary: string): FormData {
  const form = new FormData();
  const delimiter = `--${boundary}`;
  const parts = text.split(delimiter);
  if (parts.length < 2) throw new TypeError("Failed to parse body as FormData: no multipart boundary found");
  for (let i = 1; i < parts.length; i++) {
    let part = parts[i] as string;
    if (part.startsWith("--")) break;
    if (part.startsWith("\r\n")) part = part.slice(2);
    if (part.endsWith("\r\n")) part = part.slice(0, -2);
    const split = part.indexOf("\r\n\r\n");
    if (split === -1) throw new TypeError("Failed to parse body as FormData: malformed part");
    const head = part.slice(0, split);
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(head);
    const name = disposition === null ? null : /;\s*name="([^"]*)"/i.exec(disposition[1] as string);
    if (name === null) throw new TypeError("Failed to parse body as FormData: part without a name");
    form.append((name[1] as string).replace(/%0A/g, "\n").replace(/%0D/g, "\r").replace(/%22/g, '"'), part.slice(split + 4));
  }
  return form;
}
