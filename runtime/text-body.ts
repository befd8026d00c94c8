// A guest's text response body on the host side: kept as its string (see
// ResponseData in instance.ts) and handed to the host's Response as one. A
// Response made from a string adds `content-type: text/plain` when it has
// none; the guest's own Response already settled that header (a guest may
// have deleted it), so without one the text goes as its bytes instead.

const utf8 = new TextEncoder();

/** `text` as a host Response body for a response with these headers (lower-case names, as the guest sends them). */
export function textBody(text: string, headers: readonly (readonly [string, string])[]): string | Uint8Array<ArrayBuffer> {
  for (const [name] of headers) if (name === "content-type") return text;
  return utf8.encode(text);
}
