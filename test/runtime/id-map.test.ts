// IdMap (runtime/id-map.ts): the Map subset the request path uses, over integer ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdMap } from "../../runtime/id-map.ts";

test("IdMap keeps a count, replaces values, deletes once, lists values by id ascending", () => {
  const m = new IdMap<string>();
  assert.equal(m.size, 0);
  m.set(7, "a").set(3, "b").set(7, "c");
  assert.equal(m.size, 2);
  assert.equal(m.get(7), "c");
  assert.equal(m.has(3), true);
  assert.equal(m.has(4), false);
  assert.equal(m.get(4), undefined);
  assert.deepEqual(m.values(), ["b", "c"]);
  assert.equal(m.delete(3), true);
  assert.equal(m.delete(3), false);
  assert.equal(m.size, 1);
  // ids far apart, and one past 2^31 (thread invocation ids wrap below it; host call ids do not)
  m.set(2 ** 31 + 5, "far").set(0, "zero");
  assert.deepEqual(m.values(), ["zero", "c", "far"]);
  assert.equal(m.get(2 ** 31 + 5), "far");
  // values() is a copy: deleting while walking it is safe
  for (const v of m.values()) if (v === "zero") m.delete(0);
  assert.equal(m.size, 2);
  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual(m.values(), []);
});
