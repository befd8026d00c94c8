// The Workers Cache API: `caches.default` and `caches.open(name)`, each a
// Cache with match/put/delete keyed by URL. Entries live on the host, local
// to the process and best-effort as on Workers (see host/bindings/cache).
import { hostCall } from "./bridge.js";
import { Request, Response, responseFromHost } from "./body.js";
import { headerPairs } from "./headers.js";

const requestOf = (r) => (r instanceof Request ? r : new Request(r));
const getOnly = (r, options) => r.method === "GET" || !!(options && options.ignoreMethod);

export class Cache {
  /** @param {string | null} name null is caches.default */
  constructor(name) { this._name = name; }

  /** The cached response for request (GET only unless ignoreMethod), with `cf-cache-status: HIT`; undefined when none. */
  async match(request, options) {
    const r = requestOf(request);
    if (!getOnly(r, options)) return undefined;
    const hit = await hostCall("cache.match", [this._name, r.url]);
    if (!hit) return undefined;
    const headers = hit.headers.filter(([k]) => k.toLowerCase() !== "cf-cache-status");
    headers.push(["cf-cache-status", "HIT"]);
    return responseFromHost({ status: hit.status, statusText: "", headers }, hit.body);
  }

  /** Store response for a GET request, as its Cache-Control, Expires and Set-Cookie headers allow (the host decides). */
  async put(request, response) {
    const r = requestOf(request);
    if (r.method !== "GET") throw new TypeError("Cannot cache response to non-GET request.");
    if (!(response instanceof Response)) throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
    if (response.status === 206) throw new TypeError("Cannot cache response to a range request (206 Partial Content).");
    const vary = response.headers.get("vary");
    if (vary && vary.split(",").some((v) => v.trim() === "*")) throw new TypeError("Cannot cache response with 'Vary: *' header.");
    if (response.bodyUsed) throw new TypeError("Cannot cache a response whose body was already used.");
    const body = new Uint8Array(await response.arrayBuffer());
    await hostCall("cache.put", [this._name, r.url, response.status, headerPairs(response.headers), body]);
  }

  /** Remove the entry for request (GET only unless ignoreMethod); true when there was one. */
  async delete(request, options) {
    const r = requestOf(request);
    if (!getOnly(r, options)) return false;
    return hostCall("cache.delete", [this._name, r.url]);
  }

  get [Symbol.toStringTag]() { return "Cache"; }
}

export const caches = Object.freeze({
  default: new Cache(null),
  /** @param {string} name */
  async open(name) { return new Cache(String(name)); },
});
