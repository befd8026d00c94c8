// The server frames responses, never the guest. A guest response that sets
// `content-length` or `transfer-encoding` could split the HTTP stream on a
// keep-alive connection (the next bytes read as a second response); the
// hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, which the
// guest does not own. They are dropped, along with any header the guest's
// own `connection` header names.

const DROPPED = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-authentication-info",
]);

const dropped = (name: string, named: Set<string>) => DROPPED.has(name) || name.startsWith("proxy-") || named.has(name);

/** The guest's response with framing and hop-by-hop headers removed; the same object when it has none. */
export function sanitizeFraming(res: Response): Response {
  const named = new Set((res.headers.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
  let dirty = false;
  for (const name of res.headers.keys()) if (dropped(name, named)) (dirty = true);
  if (!dirty) return res;
  const headers = new Headers();
  for (const [name, value] of res.headers) if (!dropped(name, named)) headers.append(name, value);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
