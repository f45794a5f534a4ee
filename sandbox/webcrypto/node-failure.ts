/**
 * Node's webcrypto errors as the isolate sees them: the spec's error name
 * (Node's DOMExceptions carry it; its argument errors are TypeErrors) and a
 * bounded message. Anything else is an OperationError; nothing of the host
 * error object (stack, code, cause) crosses.
 */
import { CRYPTO_ERROR_NAMES, type CryptoErrorName } from "../prelude/protocol.js";
import { failure, type CryptoFailure } from "./params.js";

/** Longest error message passed into an isolate, characters. */
const MAX_MESSAGE_CHARS = 300;

function isCryptoErrorName(name: unknown): name is CryptoErrorName {
  return typeof name === "string" && (CRYPTO_ERROR_NAMES as readonly string[]).includes(name);
}

/** The isolate's view of an error Node's webcrypto threw or rejected with. */
export function nodeFailure(error: unknown): CryptoFailure {
  const message = error instanceof Error ? String(error.message).slice(0, MAX_MESSAGE_CHARS) : "The operation failed";
  if (error instanceof TypeError) return failure("TypeError", message);
  const name = error instanceof Error ? error.name : undefined;
  if (isCryptoErrorName(name)) return failure(name, message);
  // Node 20 names its "key is not extractable" error InvalidAccessException; the spec says InvalidAccessError.
  if (name === "InvalidAccessException") return failure("InvalidAccessError", message);
  // RangeErrors (e.g. a bad AES length) and OpenSSL errors: the operation failed.
  return failure("OperationError", message);
}
