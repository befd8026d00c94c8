// Validate the guest's FetchRequestData and check one hop's URL against policy.
import type { FetchRequestData } from "../../../runtime/types.ts";
import { checkAddress, isIpLiteral } from "./classify.ts";
import { isHostAllowed, isUrlAllowed, normalizeHost, splitPort } from "./egress.ts";
import { egressDenied, FetchError } from "./errors.ts";
import type { ResolvedFetchPolicy } from "./policy.ts";

const REDIRECT_MODES = new Set(["follow", "manual", "error"]);
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function invalid(message: string): FetchError {
  return new FetchError("FETCH_INVALID", `fetch: ${message}`);
}

/** Shape-check what crossed the sandbox boundary; never trust it to match the type. */
export function parseRequestData(value: unknown, policy: ResolvedFetchPolicy): FetchRequestData {
  if (typeof value !== "object" || value === null) throw invalid("request data must be an object");
  const v = value as Record<string, unknown>;
  if (typeof v.url !== "string") throw invalid("url must be a string");
  const rawMethod = v.method === undefined ? "GET" : v.method;
  if (typeof rawMethod !== "string" || !TOKEN.test(rawMethod)) throw invalid(`invalid method ${String(rawMethod)}`);
  const upper = rawMethod.toUpperCase();
  const method = NORMALIZED_METHODS.has(upper) ? upper : rawMethod;
  if (method === "CONNECT" || method === "TRACE" || method === "TRACK") throw invalid(`method ${method} is not allowed`);
  const headers = v.headers === undefined ? [] : v.headers;
  if (!Array.isArray(headers) || !headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === "string" && typeof h[1] === "string")) {
    throw invalid("headers must be [name, value] string pairs");
  }
  const body = v.body ?? null;
  if (body !== null && !(body instanceof Uint8Array)) throw invalid("body must be a Uint8Array or null");
  if (body !== null && (method === "GET" || method === "HEAD")) throw invalid(`${method} request cannot have a body`);
  if (body !== null && body.byteLength > policy.maxRequestBytes) {
    throw new FetchError("REQUEST_TOO_LARGE", `fetch: request body of ${body.byteLength} bytes exceeds the ${policy.maxRequestBytes}-byte limit`);
  }
  const redirect = v.redirect === undefined ? "follow" : v.redirect;
  if (typeof redirect !== "string" || !REDIRECT_MODES.has(redirect)) throw invalid(`invalid redirect mode ${String(redirect)}`);
  return { url: v.url, method, headers: headers as [string, string][], body, redirect: redirect as FetchRequestData["redirect"] };
}

/** Parse a URL (relative to `base` for Location), or fail as the guest's error. */
export function parseUrl(input: string, base?: URL): URL {
  try {
    return new URL(input, base);
  } catch {
    throw base
      ? new FetchError("FETCH_FAILED", `fetch to ${base.host} failed: invalid redirect location ${JSON.stringify(input)}`)
      : invalid(`invalid URL ${JSON.stringify(input)}`);
  }
}

/**
 * Check one hop before anything is sent: scheme, egress allow-list, and for
 * IP-literal hosts the address itself (the Agent's lookup never sees those).
 * WHATWG URL has already normalised 127.1 / 0x7f000001 / 2130706433 to 127.0.0.1.
 */
export function checkHop(url: URL, policy: ResolvedFetchPolicy): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    const shown = url.href.length > 100 ? `${url.href.slice(0, 100)}...` : url.href;
    throw egressDenied(shown, `scheme ${url.protocol} is not allowed (http: and https: only)`);
  }
  if (url.username || url.password) throw invalid(`URL ${url.host} must not contain credentials`);
  if (!isHostAllowed(url.hostname, policy.egress?.map((e) => splitPort(e).host))) {
    throw egressDenied(url.hostname, "host is not in the egress allow-list");
  }
  if (!isUrlAllowed(url, policy.egress)) {
    throw egressDenied(url.host, `port ${url.port} is not in the egress allow-list (list "host:${url.port}" to allow it)`);
  }
  // RFC 6761: *.localhost is loopback whatever DNS says; refuse without asking it.
  const name = normalizeHost(url.hostname);
  if (!policy.allowLoopback && (name === "localhost" || name.endsWith(".localhost"))) {
    throw egressDenied(url.hostname, "loopback name (the operator can permit it with HANGAR_FETCH_ALLOW_PRIVATE=1)");
  }
  if (isIpLiteral(url.hostname)) {
    const why = checkAddress(url.hostname, policy);
    if (why) throw egressDenied(url.hostname, why);
  }
}
