/** The smallest useful edgehost app: answers every request from its isolate. */
interface Env {
  GREETING?: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/json") {
      return Response.json({ hello: "world", path: url.pathname });
    }
    return new Response(`${env.GREETING ?? "Hello"} from edgehost! You asked for ${url.pathname}\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
};
