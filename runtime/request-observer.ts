/**
 * What the front end tells observers (metrics, the request log) about each
 * request. HttpServer knows status and duration, the sandbox reports CPU as
 * it charges it; neither knows who listens.
 */

/** One request, once its response is written (or its client gone). */
export interface FinishedRequest {
  /** The app it was routed to; undefined when it reached none (no route, a malformed head, a refusal). */
  readonly app: string | undefined;
  readonly requestId: string;
  readonly method: string;
  /** The path, without the query (which may carry tokens). */
  readonly path: string;
  /** The status written; 499 when the client went away before one was. */
  readonly status: number;
  /** From the request's head to the last byte of the response, ms. */
  readonly durationMs: number;
  /** CPU charged to the request up to now (waitUntil work after the response is reported to `cpu` only). */
  readonly cpuMs: number;
  /** The catalogued client error of an error reply (runtime/error-catalogue.ts). */
  readonly error: string | undefined;
}

export interface RequestObserver {
  /** CPU charged to a request of `app`, each entry as it is charged (including waitUntil work and body pulls). */
  cpu(app: string, ms: number): void;
  finished(request: FinishedRequest): void;
}

/** Several observers as one. */
export function observers(list: readonly RequestObserver[]): RequestObserver {
  return {
    cpu: (app, ms) => {
      for (const observer of list) observer.cpu(app, ms);
    },
    finished: (request) => {
      for (const observer of list) observer.finished(request);
    },
  };
}
