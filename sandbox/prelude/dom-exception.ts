/** DOMException as WebIDL defines it, including the legacy numeric codes. */

/** Legacy code and constant name per exception name (WebIDL "error names" table). */
const LEGACY: ReadonlyArray<readonly [name: string, code: number, constant: string]> = [
  ["IndexSizeError", 1, "INDEX_SIZE_ERR"],
  ["HierarchyRequestError", 3, "HIERARCHY_REQUEST_ERR"],
  ["WrongDocumentError", 4, "WRONG_DOCUMENT_ERR"],
  ["InvalidCharacterError", 5, "INVALID_CHARACTER_ERR"],
  ["NoModificationAllowedError", 7, "NO_MODIFICATION_ALLOWED_ERR"],
  ["NotFoundError", 8, "NOT_FOUND_ERR"],
  ["NotSupportedError", 9, "NOT_SUPPORTED_ERR"],
  ["InvalidStateError", 11, "INVALID_STATE_ERR"],
  ["SyntaxError", 12, "SYNTAX_ERR"],
  ["InvalidModificationError", 13, "INVALID_MODIFICATION_ERR"],
  ["NamespaceError", 14, "NAMESPACE_ERR"],
  ["InvalidAccessError", 15, "INVALID_ACCESS_ERR"],
  ["TypeMismatchError", 17, "TYPE_MISMATCH_ERR"],
  ["SecurityError", 18, "SECURITY_ERR"],
  ["NetworkError", 19, "NETWORK_ERR"],
  ["AbortError", 20, "ABORT_ERR"],
  ["URLMismatchError", 21, "URL_MISMATCH_ERR"],
  ["QuotaExceededError", 22, "QUOTA_EXCEEDED_ERR"],
  ["TimeoutError", 23, "TIMEOUT_ERR"],
  ["InvalidNodeTypeError", 24, "INVALID_NODE_TYPE_ERR"],
  ["DataCloneError", 25, "DATA_CLONE_ERR"],
];

const codeByName = new Map<string, number>(LEGACY.map(([name, code]) => [name, code]));

// A WeakMap rather than a private field: V8 may read `name` while Error's
// constructor runs (stack header), before private fields exist.
const nameOf = new WeakMap<object, string>();

/** A DOMException; `name` says what went wrong, `code` is the legacy number or 0. */
export class DOMException extends Error {
  constructor(message: unknown = "", name: unknown = "Error") {
    super(String(message));
    nameOf.set(this, String(name));
  }

  override get name(): string {
    return nameOf.get(this) ?? "Error";
  }

  get code(): number {
    return codeByName.get(this.name) ?? 0;
  }

  get [Symbol.toStringTag](): string {
    return "DOMException";
  }
}

// One defineProperties call per object: much cheaper at boot than one
// defineProperty per constant.
const constants: PropertyDescriptorMap = {};
for (const [, code, constant] of LEGACY) constants[constant] = { value: code, enumerable: true };
Object.defineProperties(DOMException, constants);
Object.defineProperties(DOMException.prototype, constants);
