// One guest fetch: manual redirect loop, every hop re-checked, one deadline.
import { Headers, type Agent } from "undici";
import type { FetchRequestData, FetchResponseData } from "../../../runtime/types.ts";
import { checkDeclaredLength, readCapped } from "./body.ts";
import { FetchError, findFetchError, rootMessage } from "./errors.ts";
import { incomingHeaders, outgoingHeaders, withoutBodyHeaders, withoutCredentials } from "./headers.ts";
import type { ResolvedFetchPolicy } from "./policy.ts";
import { checkHop, parseRequestData, parseUrl } from "./request.ts";
import { send, type Sent } from "./send.ts";
import type { BodyStreams } from "./stream.ts";

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

/** Run `fn` under the policy deadline and the invocation's signal; the timer is cleared in finally. */
async function withDeadline<T>(policy: ResolvedFetchPolicy, outer: AbortSignal, url: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onOuter = () => controller.abort(new FetchError("FETCH_ABORTED", `fetch to ${url} aborted: the invocation ended`));
  if (outer.aborted) onOuter();
  else outer.addEventListener("abort", onOuter, { once: true });
  const timer = setTimeout(
    () => controller.abort(new FetchError("FETCH_TIMEOUT", `fetch to ${url} timed out after ${policy.timeoutMs} ms`)),
    policy.timeoutMs,
  );
  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    return await fn(controller.signal);
  } catch (err) {
    // An abort reason may arrive wrapped (or as a DOMException) depending on where undici was.
    if (controller.signal.aborted && controller.signal.reason instanceof FetchError) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    outer.removeEventListener("abort", onOuter);
  }
}

function networkError(err: unknown, url: URL): FetchError {
  return findFetchError(err) ?? new FetchError("FETCH_FAILED", `fetch to ${url.host} failed: ${rootMessage(err)}`, { cause: err });
}

async function discard(res: Sent): Promise<void> {
  await res.body?.cancel().catch(() => {});
}

/**
 * Perform the guest's fetch under `policy` through `agent`, counting every request sent (redirect hops
 * included) in `sent`. When the request data says `stream: true`, a body still arriving is answered
 * with what has come and a `bodyStream` id to read the rest with (see stream.ts).
 */
export async function performFetch(
  input: unknown, policy: ResolvedFetchPolicy, agent: Agent, outer: AbortSignal, sent: { n: number } = { n: 0 }, streams?: BodyStreams,
): Promise<FetchResponseData & { bodyStream?: number }> {
  const req: FetchRequestData = parseRequestData(input, policy);
  // the guest's fetch asks for a streamed body; other callers get it whole
  const wantsStream = (input as { stream?: unknown }).stream === true;
  let url = parseUrl(req.url);
  let method = req.method;
  let body = req.body;
  let headers = outgoingHeaders(req.headers);
  try {
    new Headers(headers);
  } catch (err) {
    throw new FetchError("FETCH_INVALID", `fetch: invalid headers (${(err as Error).message})`);
  }

  return withDeadline(policy, outer, url.host || url.href, async (signal) => {
    for (let hop = 0; ; hop++) {
      checkHop(url, policy);
      // The limit is on requests sent: every redirect hop is one.
      if (++sent.n > policy.maxRequests) {
        throw new FetchError("SUBREQUEST_LIMIT", `fetch to ${url.host} refused: subrequest limit of ${policy.maxRequests} requests per invocation reached (redirects count)`);
      }
      let res: Sent;
      try {
        res = await send(url, { method, headers, body, agent, signal });
      } catch (err) {
        throw networkError(err, url);
      }
      const location = res.headers.get("location");
      if (REDIRECT_STATUS.has(res.status) && location !== null && req.redirect !== "manual") {
        await discard(res);
        if (req.redirect === "error") {
          throw new FetchError("FETCH_REDIRECT", `fetch to ${url.host} failed: got a ${res.status} redirect with redirect: "error"`);
        }
        if (hop >= policy.maxRedirects) {
          throw new FetchError("FETCH_REDIRECT", `fetch to ${url.host} failed: more than ${policy.maxRedirects} redirects`);
        }
        const next = parseUrl(location, url);
        // Fetch spec, HTTP-redirect fetch step 12.
        if ((res.status === 303 && method !== "GET" && method !== "HEAD") || ((res.status === 301 || res.status === 302) && method === "POST")) {
          method = "GET";
          body = null;
          headers = withoutBodyHeaders(headers);
        }
        if (next.origin !== url.origin) headers = withoutCredentials(headers);
        url = next;
        continue;
      }
      try {
        const decoded = res.decoded;
        if (!decoded) checkDeclaredLength(res.headers.get("content-length"), policy.maxResponseBytes, url.host);
        const head = { status: res.status, statusText: res.statusText, headers: incomingHeaders(res.headers as unknown as globalThis.Headers, decoded), url: url.href, redirected: hop > 0 };
        if (streams && wantsStream) return { ...head, ...(await streams.start(res.body, url.host, outer)) };
        const bytes = await readCapped(res.body, policy.maxResponseBytes, url.host);
        return { ...head, body: bytes };
      } catch (err) {
        await discard(res);
        throw networkError(err, url);
      }
    }
  });
}
