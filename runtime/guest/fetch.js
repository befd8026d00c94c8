// Guest fetch(): one "fetch" host call per request (the host counts subrequests).
import { Request, responseFromHost } from "./body.js";
import { headerPairs } from "./headers.js";
import { hostCall, HOST_ERROR } from "./bridge.js";
import { pulledStream } from "./streams.js";

export async function fetch(input, init) {
  const req = new Request(input, init);
  const signal = req.signal;
  if (signal.aborted) throw signal.reason;
  const body = await req._takeForHost();
  const call = hostCall("fetch", [{ url: req.url, method: req.method, headers: headerPairs(req.headers), body, redirect: req.redirect, stream: true }]);
  let onAbort;
  const aborted = new Promise((_, reject) => { onAbort = () => reject(signal.reason); signal.addEventListener("abort", onAbort, { once: true }); });
  let data;
  try {
    data = await Promise.race([call, aborted]);
  } catch (e) {
    if (signal.aborted && e === signal.reason) throw e;
    /** @type {TypeError & { code?: unknown }} */
    const err = new TypeError(`fetch failed: ${e && e.message}`, { cause: e });
    if (e && e.code !== undefined) err.code = e.code;
    if (e && e[HOST_ERROR]) Object.defineProperty(err, HOST_ERROR, { value: true });
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (data.bodyStream === undefined) return responseFromHost(data, data.body);
  return responseFromHost(data, null, bodyStream(data.body, data.bodyStream, signal));
}

/** The rest of a response body still arriving: pulled from the host chunk by chunk ("fetch.read"). */
function bodyStream(first, id, signal) {
  const { stream, ended } = pulledStream(() => hostCall("fetch.read", [id]), () => { hostCall("fetch.read", [id, "cancel"]).catch(() => {}); }, first,
    (e) => new TypeError(`fetch failed while reading the body: ${e && e.message}`, { cause: e }));
  if (!signal.aborted) signal.addEventListener("abort", () => { if (!ended()) stream.cancel(signal.reason).catch(() => {}); }, { once: true });
  return stream;
}
