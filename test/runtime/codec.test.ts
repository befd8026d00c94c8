// The value codec (runtime/contract.js) both ways through a real sandbox: the
// same value built on the host and in the guest, encoded by either side,
// decoded by the other and sent back, must come out as an independent model
// of the format says (normalize below), with the same types on both sides.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRuntime } from "../../runtime/index.ts";
import { decode, encode, markJsonReady, type Wire } from "../../runtime/contract.js";
import { plainRows } from "../../host/bindings/sql/values.ts";
import { ROOMY, input, moduleBundle } from "./helpers.ts";

// Each case is source text, evaluated on the host and in the guest alike.
const CASES: [string, string][] = [
  // lone primitives: the guest's call arguments are then primitives and arrays of them, which the codec sends as their JSON (contract.js encode)
  ["a lone -0", `-0`],
  ["a lone NaN", `NaN`],
  ["a lone string", `"\\u0000lead \\ud800 snow \\u2603"`],
  ["a lone null", `null`],
  ["a lone bigint", `-(2n ** 70n)`],
  ["scalars", `[0, -0, 1.5, -2e300, "", "s", "\\u0000lead", "snow \\u2603 \\ud83d\\ude00", true, false, null, NaN, Infinity]`],
  ["dates", `{ epoch: new Date(0), max: new Date(8.64e15), neg: new Date(-1), invalid: new Date(NaN), list: [new Date(1700000000000), new Date("x")] }`],
  ["bytes", `(() => { const six = new Uint8Array([0, 1, 2, 3, 4, 5]); return {
    whole: new Uint8Array([1, 2, 3]), empty: new Uint8Array(0), buffer: six.buffer.slice(1, 4),
    view: new Uint8Array(six.buffer, 2, 3), u16: new Uint16Array(new Uint16Array([1, 2, 3, 4]).buffer, 2, 2),
    f64: new Float64Array([1.5]), dv: new DataView(six.buffer, 1, 2), twice: [six.subarray(4), six.subarray(4)] }; })()`],
  ["bigint", `[12n, -(2n ** 70n), { n: 0n }]`],
  ["nul keys", `{ "\\u0000t": "d", v: 5, tag: { "\\u0000t": "b", i: 0 }, "\\u0000\\u0000x": 1, "\\u0000": 2, "a": { "\\u0000k": [new Date(1)] } }`],
  ["own __proto__", `JSON.parse('{"__proto__": {"x": 1}, "\\\\u0000k": [1], "o": {"__proto__": 2, "d": 3}}')`],
  ["nested arrays", `[[1, [2, [3, [new Date(4), [new Uint8Array([5])]]]]], [], [[]], [1, , 3], [undefined, () => 1]]`],
  ["toJSON", `{ a: { toJSON() { return { d: new Date(3), b: 4n }; } }, u: new URL("http://h/p?q"), gone: { toJSON() { return undefined; } }, s: { toJSON: () => "str" } }`],
  ["shared refs and skipped values", `(() => { const s = { k: new Date(1) }; return { a: s, b: s, c: [s, s], undef: undefined, fn() {}, sym: Symbol("x") }; })()`],
];

/** Source of a function giving a value's types, run on both sides (the round trip alone cannot tell an ArrayBuffer from a Uint8Array). */
const SHAPE = `function shape(v) {
  if (v === null || typeof v !== "object") return typeof v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Date(invalid)" : "Date";
  if (Object.getPrototypeOf(v) === Uint8Array.prototype) return "Uint8Array";
  if (Array.isArray(v)) return v.map(shape);
  return [Object.getPrototypeOf(v) === Object.prototype ? "Object" : "odd prototype", ...Object.keys(v).map((k) => [k, shape(v[k])])];
}`;
const shape = new Function(`${SHAPE}; return shape;`)() as (v: unknown) => unknown;
const evaluate = (src: string): unknown => new Function(`return (${src});`)();

/** What a decoded value must equal, written from the format's rules rather than with the codec. */
function normalize(v: unknown, inArray = false): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v + 0 : null;
  if (v === undefined || typeof v === "function" || typeof v === "symbol") return inArray ? null : undefined;
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  const j = v as { toJSON?: () => unknown };
  if (typeof j.toJSON === "function") return normalize(j.toJSON(), inArray);
  if (Array.isArray(v)) return Array.from(v, (x) => normalize(x, true));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = normalize((v as Record<string, unknown>)[k]);
    if (x !== undefined) Object.defineProperty(out, k, { value: x, writable: true, enumerable: true, configurable: true });
  }
  return out;
}

/** deepStrictEqual, with invalid Dates (never equal to themselves there) made comparable. */
function same(actual: unknown, expected: unknown, what: string): void {
  const comparable = (v: unknown): unknown => {
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? { invalidDate: true } : v;
    if (Array.isArray(v)) return v.map(comparable);
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: comparable((v as Record<string, unknown>)[k]), enumerable: true });
    return Object.getPrototypeOf(v) === Object.prototype ? out : Object.setPrototypeOf(out, Object.getPrototypeOf(v));
  };
  assert.deepStrictEqual(comparable(actual), comparable(expected), what);
}

const HOST_WIRE: Wire<Uint8Array> = { out: (b) => b, in: (b) => b ?? new Uint8Array(0) };

test("host codec: each case survives encode and decode; the wire escapes NUL-led keys", () => {
  for (const [name, src] of CASES) {
    const [json, buffers] = encode(evaluate(src), HOST_WIRE);
    same(decode(json, buffers, HOST_WIRE), normalize(evaluate(src)), name);
  }
  assert.equal(encode({ a: 1, "\u0000k": 2 }, HOST_WIRE)[0], '{"a":1,"\\u0000\\u0000k":2}');
  assert.deepEqual(encode({ at: new Date(5), b: new Uint8Array([7]) }, HOST_WIRE), ['{"at":{"\\u0000t":"d","v":5},"b":{"\\u0000t":"b","i":0}}', [new Uint8Array([7])]]);
  const plain = { a: [1, "x", { b: null }] };
  assert.equal(encode(plain, HOST_WIRE)[0], JSON.stringify(plain));
  assert.deepEqual(encode(undefined, HOST_WIRE), ["null", []]);
});

test("host codec: SQL rows of primitives skip the walk (markJsonReady) and encode as the walk would; rows holding objects are walked", () => {
  const rows = () => [
    { id: 1, name: "é \u2028 \" \\ \n", value: 1.5, ok: true, none: null },
    { id: -0, name: "", value: NaN, ok: false, none: Infinity, __proto__x: "p" },
  ];
  const walked = encode(rows(), HOST_WIRE);
  const marked = plainRows(rows());
  assert.deepEqual(encode(marked, HOST_WIRE), walked);
  assert.deepEqual(encode(markJsonReady(rows()), HOST_WIRE), walked);
  // a Date or bytes in any row: the rows are walked, so their tags are written
  const dated = plainRows([{ id: 1 }, { at: new Date(5), b: Buffer.from([7]) }]);
  assert.deepEqual(encode(dated, HOST_WIRE), ['[{"id":1},{"at":{"\\u0000t":"d","v":5},"b":{"\\u0000t":"b","i":0}}]', [new Uint8Array([7])]]);
  const json = plainRows([{ j: { "\u0000k": 1 } }]);
  assert.equal(encode(json, HOST_WIRE)[0], '[{"j":{"\\u0000\\u0000k":1}}]');
  // jsonb values (JSON.parse's, never a NUL) and arrays of primitives need no walk either; the same text results
  const JSONB = 3802, BYTEA = 17, INT4ARR = 1007;
  const docs = () => [{ id: 1, doc: { a: [1, { b: "x", __proto__x: null }], t: "2020-01-01T00:00:00Z" }, tags: [1, 2, null] }];
  const docFields = [{ name: "id", dataTypeID: 23 }, { name: "doc", dataTypeID: JSONB }, { name: "tags", dataTypeID: INT4ARR }];
  assert.deepEqual(encode(plainRows(docs(), docFields), HOST_WIRE), encode(docs(), HOST_WIRE));
  // a name a jsonb and a bytea column share holds the last one's value: not taken for jsonb
  const shared = plainRows([{ v: Buffer.from([1]) }], [{ name: "v", dataTypeID: JSONB }, { name: "v", dataTypeID: BYTEA }]);
  assert.deepEqual(encode(shared, HOST_WIRE), ['[{"v":{"\\u0000t":"b","i":0}}]', [new Uint8Array([1])]]);
  // an array of Dates (timestamptz[]) is walked
  assert.equal(encode(plainRows([{ at: [new Date(5)] }]), HOST_WIRE)[0], '[{"at":[{"\\u0000t":"d","v":5}]}]');
});

test("host codec: text from the other side cannot pick a buffer by a non-index or reach a prototype", () => {
  assert.deepStrictEqual(decode('[{"\\u0000t":"b","i":"length"},{"\\u0000t":"b","i":5}]', [new Uint8Array([1])], HOST_WIRE), [new Uint8Array(0), new Uint8Array(0)]);
  const d = decode('{"\\u0000t":"d","v":"2020-01-01"}', [], HOST_WIRE);
  assert.ok(d instanceof Date && Number.isNaN(d.getTime()));
  const o = decode('{"\\u0000__proto__":{"polluted":1},"\\u0000\\u0000k":1}', [], HOST_WIRE) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(o), Object.prototype);
  assert.deepEqual(Object.keys(o), ["__proto__", "\u0000k"]);
  assert.deepEqual(o["__proto__"], { polluted: 1 });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

const GUEST = moduleBundle(`${SHAPE}
  const CASES = [${CASES.map(([, src]) => `() => (${src})`).join(",\n")}];
  const echo = (v) => globalThis.__hangar.sql.query("echo", [v]);
  const handler = { async scheduled(p) {
    const mine = CASES[p.i]();
    const mineBack = await echo(mine);
    if (!p.sent) return { mineBack, shapes: [shape(mineBack)] };
    const back = await echo(p.value);
    return { mineBack, got: p.value, back, shapes: [shape(mineBack), shape(p.value), shape(back)] };
  } };`);

/** Whether a host value can be posted to a sandbox thread: there, values cross by structured clone before the codec sees them. */
function cloneable(v: unknown): boolean {
  try { structuredClone(v); return true; } catch { return false; }
}

for (const threads of [0, 1]) {
  test(`differential round trip, host <-> guest (${threads ? "sandbox thread" : "same thread"}): every case both ways, built on either side`, async (t) => {
    const rt = await createRuntime({ threads });
    t.after(() => rt.close());
    const inst = await rt.load(`codec-${threads}`, GUEST, { limits: ROOMY });
    for (const [i, [name, src]] of CASES.entries()) {
      const seen: unknown[] = [];
      const host = { "sql.query": async (args: unknown[]) => { const v = (args[1] as unknown[])[0]; seen.push(v); return v; } };
      // functions, symbols and toJSON methods are past what a host value may hold (runtime/types.ts, HostFunction), and a thread refuses them
      const sent = threads === 0 || cloneable(evaluate(src));
      const o = await inst.dispatch("scheduled", { i, sent, value: sent ? evaluate(src) : null }, input({ host, limits: ROOMY }));
      if (!o.ok) throw new Error(`${name}: ${o.error.message}`);
      const want = normalize(evaluate(src));
      const r = o.value as { mineBack: unknown; got?: unknown; back?: unknown; shapes: unknown[] };
      same(seen[0], want, `${name}: built in the guest -> host`);
      same(r.mineBack, want, `${name}: guest -> host -> guest -> result`);
      if (sent) {
        same(r.got, want, `${name}: host -> guest -> result`);
        same(seen[1], want, `${name}: host -> guest -> host`);
        same(r.back, want, `${name}: host -> guest -> host -> guest -> result`);
      }
      assert.equal(r.shapes.length, sent ? 3 : 1);
      for (const s of r.shapes) assert.deepStrictEqual(s, shape(want), `${name}: types as the guest sees them`);
    }
  });
}

test("cycles are refused on either side, with a TypeError where the value was made", async (t) => {
  const rt = await createRuntime({ threads: 0 });
  t.after(() => rt.close());
  const src = moduleBundle(`const handler = { async scheduled(p) {
    const out = {};
    const cyc = { list: [] }; cyc.list.push([cyc]);
    try { await globalThis.__hangar.sql.query("send", [cyc]); } catch (e) { out.send = e.name + ": " + e.message; }
    try { await globalThis.__hangar.sql.query("reply", []); } catch (e) { out.reply = e.name + ": " + e.message; }
    if (p === "result") { const c = {}; c.c = c; return c; }
    return out;
  } };`);
  const inst = await rt.load("codec-cycles", src, { limits: ROOMY });
  const calls: string[] = [];
  const host = { "sql.query": async (args: unknown[]) => { calls.push(args[0] as string); const c: Record<string, unknown> = {}; c.c = c; return c; } };
  const o = await inst.dispatch("scheduled", null, input({ host, limits: ROOMY }));
  assert.ok(o.ok);
  assert.deepEqual(o.value, { send: "TypeError: cyclic object value", reply: "TypeError: cyclic object value" });
  assert.deepEqual(calls, ["reply"]); // the cyclic call never left the guest
  const cyc: Record<string, unknown> = {};
  cyc.self = [cyc];
  const o2 = await inst.dispatch("scheduled", cyc, input({ host, limits: ROOMY }));
  assert.ok(!o2.ok && o2.error.kind === "threw" && /payload is not JSON-like: cyclic object value/.test(o2.error.message), JSON.stringify(o2));
  const o3 = await inst.dispatch("scheduled", "result", input({ host, limits: ROOMY }));
  assert.ok(!o3.ok && o3.error.kind === "threw" && /cyclic object value/.test(o3.error.message), JSON.stringify(o3));
});
