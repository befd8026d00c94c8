// Fair shares: a function's concurrency limit and bounded queue, per function.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConcurrencyGates } from "../../host/invoke/concurrency.ts";

test("a full function queues, then refuses; another function is never held by it", async () => {
  const gates = new ConcurrencyGates();
  const running = [await gates.enter("busy", 2), await gates.enter("busy", 2)];
  assert.ok(running.every((r) => r !== null));
  let admitted = 0;
  const queued = [gates.enter("busy", 2), gates.enter("busy", 2), gates.enter("busy", 2), gates.enter("busy", 2)];
  for (const q of queued) void q.then(() => admitted++);
  assert.equal(await gates.enter("busy", 2), null, "queue of 2 x limit is full: refused at once");
  const other = await gates.enter("other", 2);
  assert.ok(other, "another function gets a slot while the first is full");
  other!();
  await new Promise((r) => setImmediate(r));
  assert.equal(admitted, 0, "nobody is admitted while both slots are held");
  running[0]!();
  running[0]!(); // releasing twice frees one slot only
  await new Promise((r) => setImmediate(r));
  assert.equal(admitted, 1, "one release admits exactly one waiter");
  running[1]!();
  for (const q of await Promise.all(queued.slice(0, 2))) q!();
  await Promise.all(queued);
  assert.equal(admitted, 4);
});
