import { NO_ROUTE, type ErrorReply } from "../error-response.js";
import type { RequestDispatcher, RequestHandler } from "../http-server.js";
import type { RequestTarget } from "../request-target.js";

/** What the dispatcher needs of a router: the most specific route's target for a host and path. */
export interface RouteTable<T> {
  match(host: string, path: string): { readonly target: T } | undefined;
}

/**
 * The front end's dispatcher: routes each request by Host and path to its
 * app's handler. The handler is an interface (today a Tenant running an
 * embedded isolate; later a proxy to a daemon process group), so placing an
 * app elsewhere changes what the table holds, not the router. The table is
 * swapped whole on a config reload: a request routes by the table current
 * when its head arrived.
 */
export class Dispatcher implements RequestDispatcher {
  #routes: RouteTable<RequestHandler>;

  constructor(routes: RouteTable<RequestHandler>) {
    this.#routes = routes;
  }

  /** Route new requests by `routes` from now on. */
  replaceRoutes(routes: RouteTable<RequestHandler>): void {
    this.#routes = routes;
  }

  resolve(target: RequestTarget): RequestHandler | ErrorReply {
    return this.#routes.match(target.host, target.pathname)?.target ?? NO_ROUTE;
  }
}
