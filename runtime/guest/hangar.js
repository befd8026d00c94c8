// The `hangar` module: sql (tagged template, query, begin) and vector.
import { hostCall as bridgeCall } from "./bridge.js";

/**
 * A host call whose failure carries the stack of the guest code that made it:
 * a SQL error then names the function's own TypeScript line once the stack is
 * source-mapped, not only the prelude's settle frames.
 * @param {import("../contract.js").HostFunctionName} name
 * @param {unknown[]} args
 */
function hostCall(name, args) {
  const site = new Error();
  return bridgeCall(name, args).then(undefined, (e) => {
    if (e instanceof Error && typeof site.stack === "string") {
      const frames = site.stack.split("\n").filter((l) => /^\s+at /.test(l)).slice(1);
      if (frames.length) e.stack = `${e.name}: ${e.message}\n${frames.join("\n")}\n`;
    }
    throw e;
  });
}

function makeSql(txId) {
  const sql = function sql(strings, ...values) {
    if (!Array.isArray(strings) || !Array.isArray(/** @type {{ raw?: unknown }} */ (strings).raw)) {
      return Promise.reject(new TypeError("sql is a tagged template (sql`select ... ${value}`); for text and parameters use sql.query(text, params)"));
    }
    let text = strings[0];
    for (let i = 0; i < values.length; i++) text += "$" + (i + 1) + strings[i + 1];
    return hostCall("sql.query", [text, values, txId]);
  };
  sql.query = (text, params = []) => {
    if (typeof text !== "string") return Promise.reject(new TypeError("sql.query(text, params): text must be a string"));
    return hostCall("sql.query", [text, Array.from(params), txId]);
  };
  if (txId === null) {
    sql.begin = async (fn) => {
      if (typeof fn !== "function") throw new TypeError("sql.begin(async (tx) => ...) needs a callback");
      const id = await hostCall("sql.begin", []);
      const tx = makeSql(id);
      let result;
      try {
        result = await fn(tx);
      } catch (e) {
        try { await hostCall("sql.rollback", [id]); } catch { /* the original error matters more */ }
        throw e;
      }
      await hostCall("sql.commit", [id]);
      return result;
    };
  } else {
    sql.begin = () => Promise.reject(new Error("nested transactions are not supported; use the tx you were given"));
  }
  return sql;
}

export const sql = makeSql(null);

/**
 * An embedding as its float64 bytes (one buffer) when it is a Float32Array,
 * a Float64Array or an array of finite numbers only: the interpreter's JSON
 * text of 128 doubles costs 85-100 us, after the codec's walk over each
 * number, where packing them costs 40-55 (a 1,536-dimension embedding: over
 * a millisecond saved per call). The host unpacks them
 * (host/bindings/vector/validate.ts). Anything else goes as it is, for the
 * host to refuse with its usual message.
 * @param {unknown} e
 */
function packEmbedding(e) {
  if (e instanceof Float64Array) return { float64: new Uint8Array(e.buffer, e.byteOffset, e.byteLength) };
  if (e instanceof Float32Array) return { float64: new Uint8Array(new Float64Array(e).buffer) };
  // a native callback: no interpreted call per number (a hole passes here and arrives as NaN, which the host refuses)
  if (!Array.isArray(e) || !e.every(Number.isFinite)) return e;
  return { float64: new Uint8Array(new Float64Array(e).buffer) };
}

/**
 * Upsert items with their embeddings packed; an item that is not a plain
 * object (the host refuses it) goes as it is.
 * @param {unknown} items
 */
function packItems(items) {
  if (!Array.isArray(items)) return items;
  return items.map((item) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
    const proto = Object.getPrototypeOf(item);
    if ((proto !== Object.prototype && proto !== null) || !("embedding" in item)) return item;
    return { ...item, embedding: packEmbedding(/** @type {{ embedding: unknown }} */ (item).embedding) };
  });
}

export const vector = {
  upsert: (collection, items, options) => hostCall("vector.upsert", options === undefined ? [collection, packItems(items)] : [collection, packItems(items), options]),
  search: (collection, embedding, opts = {}) => hostCall("vector.search", [collection, packEmbedding(embedding), opts]),
  remove: (collection, ids) => hostCall("vector.remove", [collection, ids]),
};
