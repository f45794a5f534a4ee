/** The hello app under `serve`: answers from its isolate, greets with its var. */
interface Env {
  GREETING?: string;
}

export default {
  fetch(request: Request, env: Env): Response {
    const url = new URL(request.url);
    return new Response(`${env.GREETING ?? "Hello"} from the hello app on ${url.host}! You asked for ${url.pathname}\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
};
