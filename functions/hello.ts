// The smallest useful function: GET /functions/v1/hello?name=you (it sees its path as /hello)
export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "world";
    return Response.json({ message: `Hello, ${name}!`, method: request.method, path: url.pathname });
  },
};
