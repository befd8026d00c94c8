// @both-backends
// SQL values as a function receives them, through the sandbox: rows the host sends as their own JSON
// (primitives, arrays of them, jsonb: contract.js markJsonReady) and rows it walks (Date, bytes, a json
// key that starts with NUL) must reach the guest alike (SPEC §4).
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createTestHangar, type TestHangar } from "hangar/testing";
import { backend, createPgDatabase, dropPgDatabase } from "../../helpers/db.ts";

const FN = `import { sql } from "hangar";
const kind = (v: unknown) => v === null ? "null" : v instanceof Date ? "Date" : v instanceof Uint8Array ? "Uint8Array" : Array.isArray(v) ? "array" : typeof v;
export default {
  async fetch() {
    // only values that are their own JSON
    const plain = await sql\`select 1::int as i, 1.5::float8 as f, 'é "q"'::text as t, true as b, null::text as n,
      array[1, 2]::int[] as arr, '{"a": [1, {"b": "y"}], "__proto__": 1}'::jsonb as j, 9007199254740993::int8 as big\`;
    // values the host walks: a Date, bytes, and a json key starting with NUL
    const walked = await sql\`select '2026-01-02T03:04:05Z'::timestamptz as at, '\\\\x01ff'::bytea as bytes,
      '{"\\\\u0000k": 1}'::json as nul, '{"a": 1}'::jsonb as j\`;
    const p = plain[0], w = walked[0];
    return Response.json({
      plain: p, kinds: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, kind(v)])), proto: Object.keys(p.j),
      at: kind(w.at), atIso: w.at.toISOString(), bytes: kind(w.bytes), byteValues: [...w.bytes], nulKeys: Object.keys(w.nul).map((k) => k.charCodeAt(0)), j: w.j,
    });
  },
};
`;

// More distinct statements than a session keeps (GUEST_CAP, 32), from concurrent invocations: names are
// made, evicted and made again while other statements run on the same sessions.
const MANY = `import { sql } from "hangar";
export default {
  async fetch(request: Request) {
    const from = Number(new URL(request.url).searchParams.get("from"));
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => sql.query(\`select \${from + i}::int as n, $1::text as tag\`, ["t" + (from + i)])));
    return Response.json(got.map((rows) => rows[0]));
  },
};
`;

let dir: string;
let url: string | undefined;
let h: TestHangar;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hangar-types-"));
  await writeFile(join(dir, "types.ts"), FN);
  await writeFile(join(dir, "many.ts"), MANY);
  url = backend === "pglite" ? undefined : await createPgDatabase();
  h = await createTestHangar({ dir, databaseUrl: url });
});
after(async () => {
  await h?.close();
  if (url) await dropPgDatabase(url);
  await rm(dir, { recursive: true, force: true });
});

test(`${backend}: SQL values reach the function as SPEC §4 says, whether the host sent them as their JSON or walked them`, async () => {
  const res = await h.fetch("/functions/v1/types");
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.deepEqual(body.plain, { i: 1, f: 1.5, t: 'é "q"', b: true, n: null, arr: [1, 2], j: JSON.parse('{"a": [1, {"b": "y"}], "__proto__": 1}'), big: "9007199254740993" });
  assert.deepEqual(body.kinds, { i: "number", f: "number", t: "string", b: "boolean", n: "null", arr: "array", j: "object", big: "string" });
  assert.deepEqual(body.proto, ["a", "__proto__"]);
  assert.equal(body.at, "Date");
  assert.equal(body.atIso, "2026-01-02T03:04:05.000Z");
  assert.equal(body.bytes, "Uint8Array");
  assert.deepEqual(body.byteValues, [1, 255]);
  assert.deepEqual(body.nulKeys, [0]);
  assert.deepEqual(body.j, { a: 1 });
});

test(`${backend}: concurrent invocations with more distinct statements than a session keeps all answer right`, async () => {
  for (let round = 0; round < 3; round++) {
    const froms = Array.from({ length: 6 }, (_, j) => j * 13 + round * 7);
    const answers = await Promise.all(froms.map(async (from) => {
      const res = await h.fetch(`/functions/v1/many?from=${from}`);
      return { from, status: res.status, body: await res.json() };
    }));
    for (const { from, status, body } of answers) {
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body, Array.from({ length: 20 }, (_, i) => ({ n: from + i, tag: `t${from + i}` })));
    }
  }
});
