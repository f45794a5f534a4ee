/**
 * A static site with one dynamic route. The front end serves public/ itself
 * (no isolate involved); requests that match no file fall through to here.
 */
export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/api/time") return Response.json({ now: new Date().toISOString() });
    return Response.json({ error: "not_found", path: url.pathname }, { status: 404 });
  },
};
