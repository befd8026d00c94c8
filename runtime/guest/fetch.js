// Guest fetch(): one "fetch" host call per request (the host counts subrequests).
import { Request, responseFromHost } from "./body.js";
import { headerPairs } from "./headers.js";
import { hostCall, HOST_ERROR } from "./bridge.js";

export async function fetch(input, init) {
  const req = new Request(input, init);
  const signal = req.signal;
  if (signal.aborted) throw signal.reason;
  const body = await req._takeForHost();
  const call = hostCall("fetch", [{ url: req.url, method: req.method, headers: headerPairs(req.headers), body, redirect: req.redirect }]);
  let onAbort;
  const aborted = new Promise((_, reject) => { onAbort = () => reject(signal.reason); signal.addEventListener("abort", onAbort, { once: true }); });
  let data;
  try {
    data = await Promise.race([call, aborted]);
  } catch (e) {
    if (signal.aborted && e === signal.reason) throw e;
    const err = new TypeError(`fetch failed: ${e && e.message}`, { cause: e });
    if (e && e.code !== undefined) err.code = e.code;
    if (e && e[HOST_ERROR]) Object.defineProperty(err, HOST_ERROR, { value: true });
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return responseFromHost(data, data.body);
}
