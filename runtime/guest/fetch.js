// Guest fetch(): one "fetch" host call per request (the host counts subrequests).
import { Request, responseFromHost } from "./body.js";
import { headerPairs } from "./headers.js";
import { hostCall, HOST_ERROR } from "./bridge.js";
import { pulledStream } from "./streams.js";

export async function fetch(input, init) {
  const req = new Request(input, init);
  // null when no signal was given: nothing can abort this request, so there is no race with one
  const signal = req._signal;
  if (signal && signal.aborted) throw signal.reason;
  const body = await req._takeForHost();
  const call = hostCall("fetch", [{ url: req.url, method: req.method, headers: headerPairs(req.headers), body, redirect: req.redirect, stream: true }]);
  /** @type {(() => void) | undefined} */
  let onAbort;
  let data;
  try {
    data = signal
      ? await Promise.race([call, new Promise((_, reject) => { onAbort = () => reject(signal.reason); signal.addEventListener("abort", onAbort, { once: true }); })])
      : await call;
  } catch (e) {
    if (signal && signal.aborted && e === signal.reason) throw e;
    /** @type {TypeError & { code?: unknown }} */
    const err = new TypeError(`fetch failed: ${e && e.message}`, { cause: e });
    if (e && e.code !== undefined) err.code = e.code;
    if (e && e[HOST_ERROR]) Object.defineProperty(err, HOST_ERROR, { value: true });
    throw err;
  } finally {
    if (signal && onAbort) signal.removeEventListener("abort", onAbort);
  }
  if (data.bodyStream === undefined) return responseFromHost(data, data.body);
  return responseFromHost(data, null, bodyStream(data.body, data.bodyStream, signal));
}

/** The rest of a response body still arriving: pulled from the host chunk by chunk ("fetch.read"). */
function bodyStream(first, id, signal) {
  const { stream, error } = pulledStream(() => hostCall("fetch.read", [id]), () => { hostCall("fetch.read", [id, "cancel"]).catch(() => {}); }, first,
    (e) => new TypeError(`fetch failed while reading the body: ${e && e.message}`, { cause: e }));
  // as the Fetch standard says: aborting after the response came errors its body with the reason
  if (signal && !signal.aborted) signal.addEventListener("abort", () => error(signal.reason), { once: true });
  return stream;
}
