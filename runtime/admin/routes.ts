import { ADMIN_METHOD_NOT_ALLOWED, ADMIN_NOT_FOUND, type ErrorReply } from "../error-response.js";

/** One admin request as a route handler sees it (read from uWS before any await). */
export interface AdminRequest {
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  /** Values of the route's `:name` segments, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly requestId: string;
  /** The request body (POST and PUT), read whole within the admin listener's limit; null for none. */
  readonly body: Uint8Array | null;
}

/** A successful admin answer. */
export interface AdminResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The open body of a streamed admin reply (admin-stream.ts). */
export interface AdminStream {
  /** False once the client went away or the listener ended the stream. */
  readonly isOpen: boolean;
  /**
   * Send `text` now. False: the socket did not take all of it (uWS holds
   * the rest, at most this one chunk); write nothing more until `onDrain`.
   */
  write(text: string): boolean;
  /** Run `listener` when the socket drains after a write returned false. */
  onDrain(listener: () => void): void;
  /** Run `listener` once when the stream ends, whichever side ends it (at once if it already has). */
  onClose(listener: () => void): void;
  /** End the response (the listener is closing or handing over). */
  end(): void;
}

/**
 * An answer written over time (Server-Sent Events): the listener writes
 * the status and headers with `first` as the first chunk, then hands the
 * open stream to `open`.
 */
export interface AdminStreamReply {
  readonly status: 200;
  readonly contentType: string;
  readonly first: string;
  open(stream: AdminStream): void;
}

export type AdminReply = AdminResponse | ErrorReply | AdminStreamReply;

/** One endpoint: a method, a path pattern (`/apps/:name`) and its handler. */
export interface AdminRoute {
  readonly method: string;
  readonly path: string;
  handle(request: AdminRequest): AdminReply | Promise<AdminReply>;
}

export type RouteMatch =
  | { readonly kind: "route"; readonly route: AdminRoute; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: "error"; readonly reply: ErrorReply; readonly allow?: readonly string[] };

/** A JSON answer. */
export function json(value: unknown, status = 200): AdminResponse {
  return { status, contentType: "application/json", body: JSON.stringify(value) };
}

export function isErrorReply(reply: AdminReply): reply is ErrorReply {
  return "error" in reply;
}

export function isStreamReply(reply: AdminReply): reply is AdminStreamReply {
  return "open" in reply;
}

function segments(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

/**
 * The admin API's route table. A handful of endpoints, so a match is a scan;
 * what matters is that adding one (deploy, rollback, split, remove, reload,
 * tail) is one entry here and touches neither the listener nor its auth.
 * A path no route has is 404; a path some route has for other methods is 405
 * with the methods it takes.
 */
export class AdminRoutes {
  readonly #routes: ReadonlyArray<{ readonly route: AdminRoute; readonly pattern: readonly string[] }>;

  constructor(routes: readonly AdminRoute[]) {
    this.#routes = routes.map((route) => ({ route, pattern: segments(route.path) }));
  }

  match(method: string, path: string): RouteMatch {
    const parts = segments(path);
    const allow: string[] = [];
    for (const { route, pattern } of this.#routes) {
      const params = matchPattern(pattern, parts);
      if (params === undefined) continue;
      if (route.method === method) return { kind: "route", route, params };
      allow.push(route.method);
    }
    return allow.length === 0 ? { kind: "error", reply: ADMIN_NOT_FOUND } : { kind: "error", reply: ADMIN_METHOD_NOT_ALLOWED, allow };
  }
}

function matchPattern(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as string;
    const actual = parts[i] as string;
    if (expected.startsWith(":")) {
      let value: string;
      try {
        value = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
      params[expected.slice(1)] = value;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}
