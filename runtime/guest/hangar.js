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

export const vector = {
  upsert: (collection, items, options) => hostCall("vector.upsert", options === undefined ? [collection, items] : [collection, items, options]),
  search: (collection, embedding, opts = {}) => hostCall("vector.search", [collection, embedding, opts]),
  remove: (collection, ids) => hostCall("vector.remove", [collection, ids]),
};
