// node:process for functions: the browser `process` shim, with `env` reading the function's
// secrets and vars (the invocation's, through Deno.env) as nodejs_compat does.
import process from "hangar-polyfill:process";

const writes = new Map();
const read = (k) => (writes.has(k) ? writes.get(k) : globalThis.Deno.env.get(k));
process.env = new Proxy(Object.create(null), {
  get: (_, k) => (typeof k === "string" ? read(k) : undefined),
  has: (_, k) => typeof k === "string" && read(k) !== undefined,
  set: (_, k, v) => (writes.set(k, String(v)), true),
  deleteProperty: (_, k) => (writes.set(k, undefined), true),
  ownKeys: () => [...new Set([...Object.keys(globalThis.Deno.env.toObject()), ...writes.keys()])].filter((k) => read(k) !== undefined),
  getOwnPropertyDescriptor: (_, k) => {
    const v = typeof k === "string" ? read(k) : undefined;
    return v === undefined ? undefined : { value: v, writable: true, enumerable: true, configurable: true };
  },
});
export default process;
