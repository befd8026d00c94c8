// console formatting in the manner of Node's util.format / util.inspect (simplified).
function quote(s) { return "'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n") + "'"; }
const IDENT = /^[A-Za-z_$][\w$]*$/;

export function inspect(v, depth = 0, seen = []) {
  switch (typeof v) {
    case "string": return depth === 0 ? v : quote(v);
    case "number": return Object.is(v, -0) ? "-0" : String(v);
    case "bigint": return v + "n";
    case "undefined": return "undefined";
    case "boolean": return String(v);
    case "symbol": return v.toString();
    case "function": return v.name ? `[Function: ${v.name}]` : "[Function (anonymous)]";
  }
  if (v === null) return "null";
  if (seen.includes(v)) return "[Circular *1]";
  if (v instanceof Error) return v.stack ? `${v.name}: ${v.message}\n${v.stack}`.replace(/\n$/, "") : `${v.name}: ${v.message}`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (v instanceof RegExp) return String(v);
  if (depth > 2) return Array.isArray(v) ? "[Array]" : "[Object]";
  const next = seen.concat([v]);
  const inner = (x) => inspect(x, depth + 1, next);
  if (Array.isArray(v)) return v.length === 0 ? "[]" : `[ ${v.map(inner).join(", ")} ]`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${/** @type {Uint8Array} */ (v).length}) [${/** @type {Uint8Array} */ (v).length ? " " + Array.from(/** @type {Uint8Array} */ (v).slice(0, 100)).join(", ") + (/** @type {Uint8Array} */ (v).length > 100 ? ", ..." : "") + " " : ""}]`;
  if (v instanceof Map) return `Map(${v.size}) {${v.size ? " " + [...v].map(([k, x]) => `${inner(k)} => ${inner(x)}`).join(", ") + " " : ""}}`;
  if (v instanceof Set) return `Set(${v.size}) {${v.size ? " " + [...v].map(inner).join(", ") + " " : ""}}`;
  if (v instanceof Promise) return "Promise { <pending> }";
  const keys = Object.keys(v);
  const ctor = v.constructor && v.constructor !== Object && typeof v.constructor.name === "string" ? v.constructor.name + " " : "";
  if (typeof v.toString === "function" && v.toString !== Object.prototype.toString && (v instanceof URL || v instanceof URLSearchParams)) return `${ctor}${quote(String(v))}`;
  if (keys.length === 0) return ctor + "{}";
  return `${ctor}{ ${keys.map((k) => `${IDENT.test(k) ? k : quote(k)}: ${inner(v[k])}`).join(", ")} }`;
}

export function format(...args) {
  let out = "";
  let i = 0;
  if (typeof args[0] === "string" && args.length > 1) {
    const fmt = args[0];
    i = 1;
    out = fmt.replace(/%[sdifjoOc%]/g, (m) => {
      if (m === "%%") return "%";
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case "%s": return typeof a === "string" ? a : typeof a === "bigint" ? a + "n" : typeof a === "object" && a !== null ? inspect(a, 1) : String(a);
        case "%d": return typeof a === "bigint" ? a + "n" : typeof a === "object" ? "NaN" : String(Number(a));
        case "%i": return typeof a === "bigint" ? a + "n" : String(parseInt(a));
        case "%f": return String(parseFloat(a));
        case "%j": try { return JSON.stringify(a); } catch { return "[Circular]"; }
        case "%c": return "";
        default: return inspect(a, 1);
      }
    });
  } else if (args.length > 0) {
    out = inspect(args[0]);
    i = 1;
  }
  for (; i < args.length; i++) out += " " + inspect(args[i]);
  return out;
}
