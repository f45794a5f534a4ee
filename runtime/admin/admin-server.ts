import { randomUUID } from "node:crypto";
import { HostMemoryBudget, type HostMemoryReservation } from "../../sandbox/index.js";
import { readBody } from "../body-reader.js";
import { ADMIN_BODY_TOO_LARGE, ADMIN_BUSY, ADMIN_TOKEN_NOT_CONFIGURED, ADMIN_UNAUTHORIZED, BAD_CONTENT_LENGTH, errorBody, INTERNAL_ERROR, withMessage } from "../error-response.js";
import { isVersionsError } from "../versions/index.js";
import type { LogSink } from "../logger.js";
import { ResponseWriter } from "../response-writer.js";
import { listenOn, loadUws, serveAll, type HttpRequest, type HttpResponse, type TemplatedApp, type Uws, type us_listen_socket } from "../uws.js";
import { openAdminStream } from "./admin-stream.js";
import type { BearerAuth } from "./bearer-auth.js";
import { isErrorReply, isStreamReply, type AdminReply, type AdminRoutes, type AdminStream, type AdminStreamReply } from "./routes.js";

/** Largest admin request body: an upload's 25 MiB of files as JSON strings or base64, with room to spare. */
export const ADMIN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** Bytes all admin bodies being read may hold at once (two largest uploads). */
const ADMIN_BODY_MEMORY_BYTES = 2 * ADMIN_BODY_LIMIT_BYTES;

export interface AdminServerOptions {
  readonly host: string;
  /** 0 = any free port (each front end then gets its own; see `port`). */
  readonly port: number;
  readonly auth: BearerAuth;
  readonly routes: AdminRoutes;
  readonly log: LogSink;
}

/**
 * The admin listener: every request authenticated, then routed through the
 * admin route table. It is uWS like the main server, not node:http, for one
 * reason: a front end that replaces another (hand-over after a catastrophic
 * isolate failure) binds the admin port while the old one still holds it,
 * which needs SO_REUSEPORT; uSockets sets it for an explicit port, node:http
 * on Node 20 cannot. Admin traffic never shares the main server's app, so
 * the main port serves no admin path and this one no tenant.
 */
export class AdminServer {
  readonly #options: AdminServerOptions;
  readonly #uws: Uws;
  readonly #app: TemplatedApp;
  #listenSocket: us_listen_socket | undefined;
  #port = 0;
  /** Bodies being read by admin requests, bounded together (authenticated callers, but a bug can loop). */
  readonly #bodyMemory = new HostMemoryBudget(ADMIN_BODY_MEMORY_BYTES);
  /** Streamed replies still open (log tails); close() ends them. */
  readonly #streams = new Set<AdminStream>();

  constructor(options: AdminServerOptions) {
    this.#options = options;
    this.#uws = loadUws();
    this.#app = this.#uws.App();
    serveAll(this.#app, "admin", options.log, (res, req) => this.#onRequest(res, req));
  }

  /** Listen; resolves with the bound port. Rejects RuntimeError(PORT_IN_USE). */
  async listen(): Promise<number> {
    const { socket, port } = await listenOn(this.#uws, this.#app, this.#options.host, this.#options.port, " for the admin API");
    this.#listenSocket = socket;
    this.#port = port;
    return port;
  }

  get port(): number {
    return this.#port;
  }

  /** Stop accepting admin connections and end open streams (hand-over, shutdown). */
  close(): void {
    if (this.#listenSocket !== undefined) {
      this.#uws.us_listen_socket_close(this.#listenSocket);
      this.#listenSocket = undefined;
    }
    for (const stream of [...this.#streams]) stream.end();
  }


  #onRequest(res: HttpResponse, req: HttpRequest): void {
    // Read everything now: `req` is invalid once this returns.
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const authorization = req.getHeader("authorization");
    const writer = new ResponseWriter(res);
    const requestId = randomUUID();
    const verdict = this.#options.auth.check(authorization);
    if (verdict === "not_configured") return this.#write(writer, ADMIN_TOKEN_NOT_CONFIGURED, requestId);
    if (verdict === "unauthorized") return this.#write(writer, ADMIN_UNAUTHORIZED, requestId, ["www-authenticate", 'Bearer realm="edgehost admin"']);
    const match = this.#options.routes.match(method, path);
    if (match.kind === "error") return this.#write(writer, match.reply, requestId, match.allow === undefined ? [] : ["allow", match.allow.join(", ")]);
    const lengthHeader = req.getHeader("content-length");
    if (lengthHeader !== "" && !/^\d{1,15}$/.test(lengthHeader)) return this.#write(writer, BAD_CONTENT_LENGTH, requestId);
    // Held until the handler is done with the body (a deploy parses and builds it), not only while it is read.
    const reservation = this.#bodyMemory.open();
    const body = method === "POST" || method === "PUT" ? this.#readBody(writer, lengthHeader === "" ? undefined : Number(lengthHeader), requestId, reservation) : Promise.resolve(null);
    body
      .then((bytes) => (bytes === "refused" ? undefined : match.route.handle({ method, path, params: match.params, requestId, body: bytes })))
      .then((reply) => {
        if (reply !== undefined) this.#write(writer, reply, requestId);
      })
      .catch((error: unknown) => {
        // Any change can meet the other front end's lock during a hand-over: a refusal to retry, not a fault.
        if (isVersionsError(error, "EDGE_VERSIONS_LOCKED")) {
          this.#options.log({ level: "warn", requestId, message: `admin ${method} ${path}: ${error.message}` });
          this.#write(writer, withMessage(ADMIN_BUSY, error.message), requestId);
          return;
        }
        this.#options.log({ level: "error", requestId, message: `admin ${method} ${path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
        this.#write(writer, INTERNAL_ERROR, requestId);
      })
      .finally(() => reservation.releaseAll());
  }

  /** The whole body, or "refused" once the refusal is written (too large) or the client has gone. */
  async #readBody(writer: ResponseWriter, contentLength: number | undefined, requestId: string, reservation: HostMemoryReservation): Promise<Uint8Array | null | "refused"> {
    const result = await readBody(writer, contentLength, ADMIN_BODY_LIMIT_BYTES, reservation);
    if (result.kind === "ok") return result.body;
    if (result.kind === "too-large" || result.kind === "no-memory") this.#write(writer, ADMIN_BODY_TOO_LARGE, requestId);
    return "refused";
  }

  #write(writer: ResponseWriter, reply: AdminReply, requestId: string, extraHeaders: readonly string[] = []): void {
    const headers = ["x-request-id", requestId, "cache-control", "no-store", ...extraHeaders];
    if (isErrorReply(reply)) {
      writer.write(reply.status, "", ["content-type", "application/json", ...headers], errorBody(reply, requestId));
    } else if (isStreamReply(reply)) {
      this.#stream(writer, reply, headers, requestId);
    } else {
      writer.write(reply.status, "", ["content-type", reply.contentType, ...headers], reply.body);
    }
  }

  #stream(writer: ResponseWriter, reply: AdminStreamReply, headers: readonly string[], requestId: string): void {
    const stream = openAdminStream(writer, reply, headers);
    this.#streams.add(stream);
    stream.onClose(() => this.#streams.delete(stream));
    try {
      reply.open(stream);
    } catch (error) {
      this.#options.log({ level: "error", requestId, message: `admin stream: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
      stream.end();
    }
  }
}
