// Header hygiene between the guest and the network.
import * as zlib from "node:zlib";

// RFC 9110 §7.6.1 connection-specific fields, plus fields undici computes itself.
const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
  "trailer", "upgrade", "proxy-authorization", "proxy-authenticate",
]);
const REQUEST_OWNED_BY_HOST = new Set(["host", "content-length"]);
/** Dropped when a redirect turns the request into a body-less GET (Fetch spec "request-body-header name"). */
const REQUEST_BODY_HEADERS = new Set([
  "content-encoding", "content-language", "content-location", "content-type", "content-length",
]);
/** Dropped on a cross-origin redirect (as undici and browsers do). */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

function connectionTokens(headers: readonly [string, string][]): Set<string> {
  const named = new Set<string>();
  for (const [k, v] of headers) {
    if (k.toLowerCase() === "connection") for (const t of v.split(",")) named.add(t.trim().toLowerCase());
  }
  return named;
}

/** Guest request headers minus hop-by-hop fields, `host` and `content-length`. */
export function outgoingHeaders(headers: readonly [string, string][]): [string, string][] {
  const named = connectionTokens(headers);
  return headers
    .filter(([k]) => {
      const n = k.toLowerCase();
      return !HOP_BY_HOP.has(n) && !REQUEST_OWNED_BY_HOST.has(n) && !named.has(n);
    })
    .map(([k, v]) => [k, v]);
}

export function withoutBodyHeaders(headers: [string, string][]): [string, string][] {
  return headers.filter(([k]) => !REQUEST_BODY_HEADERS.has(k.toLowerCase()));
}

export function withoutCredentials(headers: [string, string][]): [string, string][] {
  return headers.filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase()));
}

const hasZstd = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === "function";
const DECODED = new Set(["gzip", "x-gzip", "deflate", "br", ...(hasZstd ? ["zstd"] : [])]);
/** Statuses whose responses have no body. */
export const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Whether the body is decoded before the guest gets it (as fetch does: every
 * listed coding known, and a response that has a body; send.ts decodes).
 * Then content-encoding / content-length no longer describe its bytes.
 */
export function bodyWasDecoded(method: string, status: number, contentEncoding: string | null): boolean {
  if (!contentEncoding || method === "HEAD" || method === "CONNECT" || NULL_BODY_STATUS.has(status)) return false;
  const codings = contentEncoding.toLowerCase().split(",").map((c) => c.trim());
  return codings.length <= 5 && codings.every((c) => DECODED.has(c));
}

/** Response headers for the guest: set-cookie kept one per entry, hop-by-hop removed. */
export function incomingHeaders(headers: Headers, decoded: boolean): [string, string][] {
  const out: [string, string][] = [];
  const named = new Set<string>();
  for (const t of (headers.get("connection") ?? "").split(",")) if (t.trim()) named.add(t.trim().toLowerCase());
  for (const [k, v] of headers) {
    if (HOP_BY_HOP.has(k) || named.has(k)) continue;
    if (decoded && (k === "content-encoding" || k === "content-length")) continue;
    out.push([k, v]);
  }
  return out;
}
