/**
 * A JSON API in miniature: describes the request it got. Used by the
 * benchmarks and the workerd differential test next to examples/hello.
 *
 *   curl 'http://127.0.0.1:8787/api/items/42?fields=name,price&sort=asc'
 */
export default {
  fetch(request: Request): Response {
    const url = new URL(request.url);
    const segments = url.pathname.split("/").filter((segment) => segment.length > 0);
    const last = segments.at(-1);
    const id = last !== undefined && /^\d+$/.test(last) ? Number(last) : null;
    const fields = url.searchParams.get("fields");
    return Response.json({
      method: request.method,
      path: url.pathname,
      segments,
      id,
      fields: fields === null ? [] : fields.split(","),
      query: Object.fromEntries(url.searchParams),
      hasQuery: url.search.length > 0,
    });
  },
};
