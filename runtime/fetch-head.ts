// A fetch invocation's request and context as the one string the guest splits
// (contract.js encodeFetchHead), with the URL parsed here, once: the guest's
// `new URL(request.url)` then runs no parser and makes no crossing. With
// sandbox threads the main thread makes it, so the thread that runs the guest
// is handed one string rather than the request's fields and headers.
import { encodeFetchHead } from "./contract.js";
import { urlFields } from "./natives.ts";
import { WIRE } from "./host-reply.ts";

/** The guest keeps records of URLs up to this length (guest/url.js): a longer one is not sent twice. */
const PARSED_URL_CHARS = 2048;

export function parsedUrl(url: string): Record<string, string> | null {
  if (url.length > PARSED_URL_CHARS) return null;
  try { return urlFields(new URL(url)); } catch { return null; }
}

/**
 * The fetch head of a request whose body (if any) travels apart; null when a
 * field needs the general encoding (which also reports a value that is not
 * JSON-like).
 */
export function fetchHead(req: { url: string; method: string; headers: [string, string][]; stream: boolean }, input: { requestId: string; env: unknown; auth: unknown }): string | null {
  try {
    return encodeFetchHead({ url: req.url, method: req.method, headers: req.headers, body: null, stream: req.stream, parsed: parsedUrl(req.url) }, input.requestId, input.env, input.auth, WIRE);
  } catch {
    return null;
  }
}
