import type { ResponseWriter } from "../response-writer.js";
import type { AdminStream, AdminStreamReply } from "./routes.js";

/**
 * A streamed admin reply over the request's ResponseWriter: head and the
 * reply's first chunk now, then what the route writes. The writer's state
 * guards every write, so nothing reaches a socket the client has left.
 */
export function openAdminStream(writer: ResponseWriter, reply: AdminStreamReply, headers: readonly string[]): AdminStream {
  let drain: (() => void) | undefined;
  writer.startStream(reply.status, ["content-type", reply.contentType, ...headers], reply.first, () => drain?.());
  return {
    get isOpen() {
      return writer.isOpen;
    },
    write: (text) => writer.writeChunk(text),
    onDrain: (listener) => {
      drain = listener;
    },
    onClose: (listener) => writer.onFinish(() => listener()),
    end: () => writer.endStream(),
  };
}
