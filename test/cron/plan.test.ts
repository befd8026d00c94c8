import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSchedule } from "../../host/build/index.ts";
import { planDue } from "../../host/cron/plan.ts";

const everyMinute = parseSchedule("* * * * *");
const at = (s: string) => new Date(`2026-05-01T${s}Z`);
const isos = (ds: Date[]) => ds.map((d) => d.toISOString().slice(11, 19));

test("nothing due before the next occurrence", () => {
  const p = planDue(everyMinute, at("10:00:00"), at("10:00:59.999"), { catchUp: "all", cap: 10, graceMs: 5000 });
  assert.equal(p.cursor, null);
  assert.deepEqual(p.run, []);
});

test("an occurrence exactly at now is due and on time", () => {
  const p = planDue(everyMinute, at("10:00:00"), at("10:01:00"), { catchUp: "none", cap: 10, graceMs: 5000 });
  assert.deepEqual(p.run.map((r) => [r.at.toISOString(), r.catchUp]), [["2026-05-01T10:01:00.000Z", false]]);
  assert.equal(p.cursor?.toISOString(), "2026-05-01T10:01:00.000Z");
});

test("catchUp none runs only on-time occurrences; the missed are recorded up to the cap", () => {
  const p = planDue(everyMinute, at("10:00:30"), at("10:10:02"), { catchUp: "none", cap: 3, graceMs: 5000 });
  assert.deepEqual(isos(p.run.map((r) => r.at)), ["10:10:00"]);
  assert.deepEqual(isos(p.missed), ["10:07:00", "10:08:00", "10:09:00"]);
  assert.equal(p.dropped, 6);
  assert.equal(p.cursor?.toISOString(), "2026-05-01T10:10:00.000Z");
});

test("catchUp latest runs the most recent missed one", () => {
  const p = planDue(everyMinute, at("10:00:30"), at("10:10:30"), { catchUp: "latest", cap: 3, graceMs: 5000 });
  assert.deepEqual(p.run.map((r) => [r.at.toISOString().slice(11, 19), r.catchUp]), [["10:10:00", true]]);
  assert.deepEqual(isos(p.missed), ["10:07:00", "10:08:00", "10:09:00"]);
});

test("catchUp all runs the most recent `cap` missed ones, oldest first", () => {
  const p = planDue(everyMinute, at("10:00:30"), at("10:10:30"), { catchUp: "all", cap: 3, graceMs: 5000 });
  assert.deepEqual(isos(p.run.map((r) => r.at)), ["10:08:00", "10:09:00", "10:10:00"]);
  assert.deepEqual(isos(p.missed), ["10:05:00", "10:06:00", "10:07:00"]);
  assert.equal(p.dropped, 4);
});

test("a week-long outage of a per-second schedule stays cheap and bounded", () => {
  const everySecond = parseSchedule("* * * * * *");
  const t0 = performance.now();
  const p = planDue(everySecond, new Date("2026-05-01T00:00:00Z"), new Date("2026-05-08T00:00:00.500Z"), { catchUp: "all", cap: 100, graceMs: 0 });
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(p.run.length, 100);
  assert.equal(p.run[99].at.toISOString(), "2026-05-08T00:00:00.000Z");
  assert.equal(p.missed.length, 100);
  assert.ok(p.more);
  assert.equal(p.cursor?.toISOString(), "2026-05-08T00:00:00.000Z");
});

const everySecond = parseSchedule("* * * * * *");
const runs = (p: ReturnType<typeof planDue>) => p.run.map((r) => `${r.at.toISOString().slice(17, 19)}${r.catchUp ? " late" : ""}${r.delayed ? " delayed" : ""}`);

test("late occurrences while the fleet was running (held back by the budget or a slow claim loop) run late, whatever catchUp says", () => {
  const alive = { from: at("10:00:00"), to: at("10:00:08") };
  const p = planDue(everySecond, at("10:00:00"), at("10:00:10"), { catchUp: "none", cap: 100, graceMs: 3000, alive });
  assert.deepEqual(runs(p), ["01 delayed", "02 delayed", "03 delayed", "04 delayed", "05 delayed", "06 delayed", "07", "08", "09", "10"]);
  assert.deepEqual(p.missed, []);
  assert.equal(p.cursor?.toISOString(), "2026-05-01T10:00:10.000Z");
});

test("late occurrences before the fleet was running again were missed while no instance ran; catchUp decides", () => {
  const alive = { from: at("10:00:04"), to: at("10:00:20") };
  const p = planDue(everySecond, at("10:00:00"), at("10:00:10"), { catchUp: "latest", cap: 100, graceMs: 3000, alive });
  assert.deepEqual(isos(p.missed), ["10:00:01", "10:00:02"]);
  assert.deepEqual(runs(p), ["03 late", "04 delayed", "05 delayed", "06 delayed", "07", "08", "09", "10"]);
});

test("maxRuns stops the cursor before the next run; what was decided before it is recorded, the rest stays due", () => {
  const p = planDue(everySecond, at("10:00:00"), at("10:00:10"), { catchUp: "latest", cap: 100, graceMs: 3000, maxRuns: 2 });
  assert.deepEqual(isos(p.missed), ["10:00:01", "10:00:02", "10:00:03", "10:00:04", "10:00:05"]);
  assert.deepEqual(runs(p), ["06 late", "07"]);
  assert.equal(p.cursor?.toISOString(), "2026-05-01T10:00:07.000Z");
  assert.ok(p.deferred);
  const none = planDue(everySecond, at("10:00:00"), at("10:00:02"), { catchUp: "latest", cap: 100, graceMs: 3000, maxRuns: 0 });
  assert.equal(none.cursor, null);
  assert.ok(none.deferred);
});

test("an occurrence held back longer than maxDelayMs is skipped, not run", () => {
  const alive = { from: at("10:00:00"), to: at("10:01:00") };
  const p = planDue(everySecond, at("10:00:00"), at("10:00:10"), { catchUp: "all", cap: 100, graceMs: 3000, alive, maxDelayMs: 7000 });
  assert.deepEqual(isos(p.overdue), ["10:00:01", "10:00:02"]);
  assert.deepEqual(runs(p).slice(0, 2), ["03 delayed", "04 delayed"]);
  assert.deepEqual(p.missed, []);
});
