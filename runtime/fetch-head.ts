// A fetch invocation's request and context as the one string the guest splits
// (contract.js encodeFetchHead), with the URL parsed here, once: the guest's
// `new URL(request.url)` then runs no parser and makes no crossing. With
// sandbox threads the main thread makes it, so the thread that runs the guest
// is handed one string rather than the request's fields and headers.
import { encodeFetchHead, urlHeadPart } from "./contract.js";
import { urlFields } from "./natives.ts";
import { WIRE } from "./host-reply.ts";

/** The guest keeps records of URLs up to this length (guest/url.js): a longer one is not sent twice. */
const PARSED_URL_CHARS = 2048;

export function parsedUrl(url: string): Record<string, string> | null {
  if (url.length > PARSED_URL_CHARS) return null;
  try { return urlFields(new URL(url)); } catch { return null; }
}

// The head's part for recently seen URLs: parsing is a function of the input
// (the guest keeps the same kind of records), and a service's requests repeat
// their URLs (health checks, polling, the same API path and query). A full map
// is replaced, not cleared: V8 links a cleared map's old table to its new one.
let urlParts = new Map<string, string>();
const URL_PARTS_MAX = 256;

function urlPart(url: string): string {
  let part = urlParts.get(url);
  if (part === undefined) {
    part = urlHeadPart(parsedUrl(url));
    if (urlParts.size >= URL_PARTS_MAX) urlParts = new Map();
    urlParts.set(url, part);
  }
  return part;
}

/**
 * The fetch head of a request whose body (if any) travels apart; null when a
 * field needs the general encoding (which also reports a value that is not
 * JSON-like).
 */
export function fetchHead(req: { url: string; method: string; headers: [string, string][]; stream: boolean }, input: { requestId: string; env: unknown; auth: unknown }): string | null {
  try {
    return encodeFetchHead({ url: req.url, method: req.method, headers: req.headers, stream: req.stream, parsed: urlPart(req.url) }, input.requestId, input.env, input.auth, WIRE);
  } catch {
    return null;
  }
}
