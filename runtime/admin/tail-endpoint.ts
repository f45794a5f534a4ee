import { ADMIN_NO_SUCH_APP, ADMIN_TAIL_LIMIT } from "../error-response.js";
import type { LogTail } from "../observability/log-tail.js";
import { EventStreamTail, TAIL_PREAMBLE } from "./event-stream-tail.js";
import type { AdminRoute } from "./routes.js";

/** What the tail endpoint reads (a method of AdminSource). */
export interface TailSource {
  /** The front end's log fan-out if an app is named `name`, else undefined. */
  logTail(name: string): LogTail | undefined;
}

/**
 * `GET /apps/:name/tail`: the app's log lines and finished requests as
 * Server-Sent Events (`event: log`, `event: request`, `event: dropped`,
 * each with one JSON `data:` line; a comment as heartbeat). Unknown app:
 * 404 `admin_no_such_app`; past the tail caps: 503 `admin_tail_limit`. The
 * subscription is taken here, when the request is routed, so a cap is
 * answered with its error rather than after a 200; it ends when the client
 * goes away or the listener closes.
 */
export function tailEndpoint(source: TailSource): AdminRoute {
  return {
    method: "GET",
    path: "/apps/:name/tail",
    handle: (request) => {
      const name = request.params.name ?? "";
      const tail = source.logTail(name);
      if (tail === undefined) return ADMIN_NO_SUCH_APP;
      const subscriber = new EventStreamTail(tail.limits.bufferBytes);
      const unsubscribe = tail.subscribe(name, subscriber);
      if (unsubscribe === "limit") return ADMIN_TAIL_LIMIT;
      return {
        status: 200,
        contentType: "text/event-stream; charset=utf-8",
        first: TAIL_PREAMBLE,
        open: (stream) => subscriber.attach(stream, unsubscribe),
      };
    },
  };
}
