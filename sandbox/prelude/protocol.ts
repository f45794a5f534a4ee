/**
 * The contract between the host (sandbox/*.ts, Node side) and the prelude
 * (sandbox/prelude/*, runs inside each isolate). Types and a few constant
 * names: both sides import it, neither side gets the other's runtime.
 *
 * Boot sequence (host):
 *  1. create isolate + context, set global `__edgehost_host` to an object of
 *     isolated-vm Callbacks implementing {@link HostFunctions};
 *  2. run the prelude script; its completion value is the {@link Dispatch}
 *     function, which the host keeps as a Reference. The prelude captured the
 *     host functions in closures and deleted `__edgehost_host`;
 *  3. run the app bundle (an esbuild IIFE whose exports land in the global
 *     var `__edgehost_app`);
 *  4. call dispatch("init", limits). The prelude takes `__edgehost_app`,
 *     clears it, checks that it has a fetch handler and answers "" or an
 *     {@link InitFailure} code. The app's env came in step 1
 *     ({@link HOST_APP_ENV}), before its code ran.
 *
 * Every later entry is `dispatch(kind, ...args)` with copied arguments and
 * returns synchronously; asynchronous outcomes come back through the
 * `ignored` host callbacks (respond, fail, ...). This keeps each entry into
 * the isolate short and measurable, so the host can schedule entries and
 * account CPU per entry.
 *
 * Headers cross the boundary as a flat array `[name0, value0, name1, ...]`.
 * Bodies cross as `ArrayBuffer` (binary-safe) or, for responses built from a
 * string, the string itself (the host encodes it as UTF-8; this saves an
 * in-isolate encode on the hot path).
 */

/** How an outbound fetch treats redirects (Fetch Standard redirect mode). */
export type RequestRedirect = "follow" | "error" | "manual";

/** Header list flattened to name/value pairs. */
export type FlatHeaders = string[];

/** A response body as it leaves the isolate. */
export type WireBody = string | ArrayBuffer | null;

/** Failure codes the prelude reports from `init`. */
export type InitFailure = "no_default_export" | "no_fetch_handler";

/** Failure codes the prelude reports through `fail`. */
export type HandlerFailure =
  /** The handler threw or its promise rejected. */
  | "exception"
  /** The handler resolved to something that is not a Response. */
  | "bad_response"
  /** V8 refused an allocation ("Array buffer allocation failed"): the isolate's memory limit, not a bug in the app. */
  | "memory"
  /** The response body is larger than {@link PreludeLimits.responseLimitBytes}; refused before it left the isolate. */
  | "response_too_large";

/** Limits the prelude enforces itself before data leaves the isolate (the host re-checks). */
export interface PreludeLimits {
  /** Largest response body, bytes. */
  readonly responseLimitBytes: number;
}

/**
 * Why a host crypto call refused, returned instead of a result: host
 * callbacks never throw into the isolate (isolated-vm would copy the host
 * stack in). The prelude turns each into the Web error.
 */
export type HostCallRefusal =
  /** An argument has the wrong type or range (TypeError). */
  | "bad_argument"
  /** More random bytes than one getRandomValues call may ask for (QuotaExceededError). */
  | "quota"
  /** The digest algorithm is not SHA-1/256/384/512 (NotSupportedError). */
  | "unsupported_algorithm"
  /** Digest input over {@link MAX_DIGEST_BYTES} (QuotaExceededError). */
  | "too_large"
  /** Too many digests or digest bytes in flight for this isolate (QuotaExceededError). */
  | "busy"
  /** An asynchronous digest outside a request (OperationError), as for fetch. */
  | "no_request"
  /** A bug or failure on the host (OperationError); the host logged it. */
  | "internal";

/** Most bytes one getRandomValues call fills (Web Crypto's quota). */
export const MAX_RANDOM_BYTES = 65536;
/** Digest inputs up to this many bytes are hashed by the synchronous `digest` call; larger ones go through digestStart. */
export const SYNC_DIGEST_MAX_BYTES = 64 * 1024;
/** Largest digest input, bytes (128 MiB). */
export const MAX_DIGEST_BYTES = 128 * 1024 * 1024;
/** Asynchronous digests one isolate may have on the host at once; the prelude queues the rest. */
export const MAX_DIGESTS_IN_FLIGHT = 4;

// ---- WebCrypto (crypto.subtle beyond digest) ----

/** The SubtleCrypto methods that run on the host (digest has its own calls above). */
export type CryptoOperation =
  | "generateKey"
  | "importKey"
  | "exportKey"
  | "sign"
  | "verify"
  | "encrypt"
  | "decrypt"
  | "deriveBits"
  | "deriveKey"
  | "wrapKey"
  | "unwrapKey";

/**
 * The error a host crypto operation ended with, as the spec names it; the
 * prelude makes a TypeError for "TypeError" and a DOMException of that name
 * for the rest. QuotaExceededError is edgehost's: a bound below was hit.
 */
export type CryptoErrorName =
  | "TypeError"
  | "DataError"
  | "InvalidAccessError"
  | "NotSupportedError"
  | "OperationError"
  | "SyntaxError"
  | "InvalidStateError"
  | "QuotaExceededError";

/** Every {@link CryptoErrorName}, for checks on both sides. */
export const CRYPTO_ERROR_NAMES: ReadonlyArray<CryptoErrorName> = [
  "TypeError",
  "DataError",
  "InvalidAccessError",
  "NotSupportedError",
  "OperationError",
  "SyntaxError",
  "InvalidStateError",
  "QuotaExceededError",
];

/** A key as the host describes it to the prelude: `id` names the host's key in this isolate's table. */
export interface WireCryptoKey {
  readonly id: number;
  readonly type: "secret" | "public" | "private";
  readonly extractable: boolean;
  /** The KeyAlgorithm dictionary; `publicExponent` travels as an ArrayBuffer. */
  readonly algorithm: Record<string, unknown>;
  readonly usages: string[];
}

/** HMAC inputs up to this many bytes (data and signature) are answered by the synchronous `cryptoSync` call. */
export const SYNC_CRYPTO_MAX_BYTES = 64 * 1024;

/** Crypto operations one isolate may have on the host at once; the prelude queues the rest. */
export const MAX_CRYPTO_IN_FLIGHT = 2;
/** Keys one isolate may hold on the host (imports of identical key material share one). */
export const MAX_CRYPTO_KEYS = 10_000;
/** Largest data, signature, key or wrapped-key input of one crypto operation, bytes. */
export const MAX_CRYPTO_INPUT_BYTES = 64 * 1024 * 1024;
/** Largest RSA modulus generateKey makes, bits (generation time grows with its fourth power). */
export const MAX_RSA_MODULUS_BITS = 4096;
/** Most PBKDF2 iterations one deriveBits may ask for (as workerd). */
export const MAX_PBKDF2_ITERATIONS = 100_000;

/** Console levels forwarded to the host log. */
export type LogLevel = "debug" | "log" | "info" | "warn" | "error";

/** Functions the host provides; all arguments are copied. */
export interface HostFunctions {
  /** (ignored) One console line, already formatted. requestId is "" outside a request. */
  log(level: LogLevel, requestId: string, message: string): void;
  /** (sync) `byteLength` cryptographically random bytes (byteLength <= MAX_RANDOM_BYTES), or why not. */
  randomBytes(byteLength: number): ArrayBuffer | HostCallRefusal;
  /**
   * (sync) Digest of `data` (at most SYNC_DIGEST_MAX_BYTES), or why not;
   * algorithm is one of SHA-1, SHA-256, SHA-384, SHA-512 (normalised upper case).
   */
  digest(algorithm: string, data: ArrayBuffer): ArrayBuffer | HostCallRefusal;
  /**
   * (ignored) Start a digest of `data` (at most MAX_DIGEST_BYTES) off the
   * host's event loop for request `requestId`; the outcome arrives as
   * dispatch("digest-result", callId, "" | refusal, digest | null).
   */
  digestStart(callId: number, requestId: string, algorithm: string, data: ArrayBuffer): void;
  /**
   * (ignored) WebCrypto: start `operation` with `args` (plain data: keys as
   * their {@link WireCryptoKey} ids, BufferSources as ArrayBuffers) for
   * request `requestId` ("" outside a request); the outcome arrives as
   * dispatch("crypto-result", callId, ...). Every call gets its result.
   */
  cryptoStart(callId: number, requestId: string, operation: CryptoOperation, args: unknown[]): void;
  /**
   * (sync) WebCrypto: HMAC sign (the MAC) or verify (true or false) of
   * `data` (and `signature`), each at most SYNC_CRYPTO_MAX_BYTES, under key
   * `keyId`, answered during the call; "async" (or a refusal) for anything
   * else, which then goes through cryptoStart. Saves the round trip through
   * the event loop that small, frequent MACs (webhooks, HS256 JWTs) paid.
   */
  cryptoSync(operation: "sign" | "verify", algorithmName: string, keyId: number, data: ArrayBuffer, signature: ArrayBuffer | null): ArrayBuffer | boolean | "async" | HostCallRefusal;
  /**
   * (ignored) The response to request `requestId`. `finished` is true when
   * no ctx.waitUntil work is pending: the request is over and no
   * waitUntilDone will follow (one host call instead of two on the hot path).
   * `pulledLength` is null when `body` is the whole body; otherwise `body`
   * is null and the host pulls the body (dispatch "body-pull", answered by
   * bodyChunk), which has `pulledLength` bytes, or -1 if not known.
   */
  respond(
    requestId: string,
    status: number,
    statusText: string,
    headers: FlatHeaders,
    body: WireBody,
    finished: boolean,
    pulledLength: number | null,
  ): void;
  /**
   * (ignored) streams: the response to request `requestId` has as its body
   * the untouched streamed body of fetch `callId` (`return fetch(url)`,
   * `new Response(upstream.body)`): the host writes it to the client
   * straight from upstream, and the prelude reads none of it. `finished` as
   * for respond.
   */
  respondWithFetchedBody(requestId: string, status: number, statusText: string, headers: FlatHeaders, finished: boolean, callId: number): void;
  /**
   * (ignored) Answer to dispatch("body-pull", requestId): the next chunk of
   * the response body (at most 1 MiB of bytes or 256 Ki characters), or
   * null with `done` at its end.
   */
  bodyChunk(requestId: string, chunk: ArrayBuffer | string | null, done: boolean): void;
  /** (ignored) The app wants more of the streamed request body of `requestId`; answered by dispatch("body-data"). */
  requestBodyPull(requestId: string): void;
  /** (ignored) The app cancelled the streamed request body of `requestId`. */
  requestBodyCancel(requestId: string): void;
  /** (ignored) The handler of `requestId` failed. `stack` is the raw V8 stack (bundle positions). `finished` as for respond. */
  fail(requestId: string, code: HandlerFailure, name: string, message: string, stack: string, finished: boolean): void;
  /** (ignored) Every promise passed to ctx.waitUntil for `requestId` has settled (sent only if respond/fail said `finished: false`). */
  waitUntilDone(requestId: string): void;
  /**
   * (ignored) Start an outbound fetch; the outcome arrives as
   * dispatch("fetch-result" | "fetch-error"). `redirect` is the request's
   * redirect mode; in "manual" mode a 3xx comes back as the result itself.
   */
  fetchStart(callId: number, requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null, redirect: RequestRedirect): void;
  /** (ignored) The fetch `callId` was aborted by its signal. */
  fetchAbort(callId: number): void;
  /**
   * (ignored) streams: the app wants more of the streamed response body of
   * fetch `callId` (see "fetch-result"); answered by dispatch("fetch-body").
   * One pull at a time.
   */
  fetchBodyPull(callId: number): void;
  /** (ignored) streams: the app cancelled (or aborted) the streamed response body of fetch `callId`. */
  fetchBodyCancel(callId: number): void;
  /** (ignored) Fire dispatch("timer", timerId) after `delayMs`. */
  timerStart(timerId: number, requestId: string, delayMs: number): void;
  /** (ignored) Cancel timer `timerId`. */
  timerClear(timerId: number): void;
  /**
   * (sync) streams: the source of lazily loaded prelude module `name` (one
   * of {@link LAZY_MODULE_NAMES}): a script starting with
   * {@link LAZY_MODULE_MARKER} whose completion value is the module's
   * exports. Anything else (unknown name, host failure) answers a refusal.
   * Kept out of the prelude script so that idle isolates do not hold it.
   */
  loadModule(name: string): string | HostCallRefusal;
}

/** streams (and tr46 for URL hosts, urlpattern-polyfill for URLPattern): modules the prelude loads through loadModule on first use. */
export const LAZY_MODULE_NAMES = ["web-streams-polyfill", "fflate", "tr46", "urlpattern", "es-builtins", "buffer"] as const;
/** streams: the first characters of every lazy module source. */
export const LAZY_MODULE_MARKER = "/*edgehost-lazy-module*/";

/** Entries into the isolate. Each returns synchronously. */
export interface Dispatch {
  (kind: "init", limits?: PreludeLimits): "" | InitFailure;
  /** With `bodyStreamed`, `body` is null and the body arrives through requestBodyPull / "body-data". */
  (kind: "request", requestId: string, method: string, url: string, headers: FlatHeaders, body: ArrayBuffer | null, bodyStreamed: boolean): void;
  /** Answer to requestBodyPull: "data" with a chunk, "end", or "error" with a message. */
  (kind: "body-data", requestId: string, chunk: ArrayBuffer | null, state: "data" | "end" | "error", message: string): void;
  /** The client went away or the host gave up: abort `request.signal`. */
  (kind: "abort", requestId: string): void;
  /**
   * A fetch's response head. With `bodyStreamed`, `body` is null and the
   * body arrives through fetchBodyPull / "fetch-body"; otherwise `body` is
   * the whole body (or null for none).
   */
  (kind: "fetch-result", callId: number, status: number, statusText: string, headers: FlatHeaders, body: ArrayBuffer | null, url: string, bodyStreamed: boolean): void;
  /**
   * Answer to fetchBodyPull: "data" with a chunk, "end" (with the last
   * chunk, or null), or "error" with a message.
   */
  (kind: "fetch-body", callId: number, chunk: ArrayBuffer | null, state: "data" | "end" | "error", message: string): void;
  (kind: "fetch-error", callId: number, name: string, message: string): void;
  (kind: "timer", timerId: number): void;
  /** Outcome of digestStart `callId`: code "" and the digest, or a refusal and null. */
  (kind: "digest-result", callId: number, code: "" | HostCallRefusal, digest: ArrayBuffer | null): void;
  /** The host is ready for the next chunk of `requestId`'s pulled response body. */
  (kind: "body-pull", requestId: string): void;
  /** The client is gone: drop `requestId`'s pulled response body. */
  (kind: "body-cancel", requestId: string): void;
  /**
   * Outcome of cryptoStart `callId`: error "" and the result (ArrayBuffer,
   * boolean, JWK object, WireCryptoKey or { publicKey, privateKey }), or an
   * error name, its message and null.
   */
  (kind: "crypto-result", callId: number, error: "" | CryptoErrorName, message: string, result: unknown): void;
}

/** Names of the host functions, in the order the host installs them. */
export const HOST_FUNCTION_NAMES: ReadonlyArray<keyof HostFunctions> = [
  "log",
  "randomBytes",
  "digest",
  "digestStart",
  // WebCrypto
  "cryptoStart",
  "cryptoSync",
  "respond",
  // streams: a fetched body passed through as the response body.
  "respondWithFetchedBody",
  "bodyChunk",
  "requestBodyPull",
  "requestBodyCancel",
  "fail",
  "waitUntilDone",
  "fetchStart",
  "fetchAbort",
  // streams: streamed fetch response bodies.
  "fetchBodyPull",
  "fetchBodyCancel",
  "timerStart",
  "timerClear",
  // streams: lazily loaded prelude modules.
  "loadModule",
];

/** Global names used only during boot. */
export const HOST_GLOBAL = "__edgehost_host";
/**
 * The entry of {@link HOST_GLOBAL} holding the app's text bindings (vars and
 * secrets), before its code runs: each request's `env`, `process.env` and
 * cloudflare:workers' `env` are made from it (workerd has all three from
 * the start too). A copy, strings only, optional (absent means empty).
 */
export const HOST_APP_ENV = "appEnv";
export const APP_GLOBAL = "__edgehost_app";
