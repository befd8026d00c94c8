import assert from "node:assert/strict";
import { test } from "node:test";
import { nextOccurrences } from "../../host/build/index.ts";

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

test("5-field, 6-field and nickname schedules, strictly after `after`", () => {
  const t = new Date("2026-01-01T00:00:00Z");
  assert.deepEqual(iso(nextOccurrences("*/5 * * * *", "UTC", t, 2)), ["2026-01-01T00:05:00.000Z", "2026-01-01T00:10:00.000Z"]);
  assert.deepEqual(iso(nextOccurrences("30 0 0 * * *", "UTC", t, 1)), ["2026-01-01T00:00:30.000Z"]);
  assert.deepEqual(iso(nextOccurrences("@hourly", "UTC", t, 1)), ["2026-01-01T01:00:00.000Z"]);
  assert.deepEqual(iso(nextOccurrences("@daily", "America/New_York", t, 1)), ["2026-01-01T05:00:00.000Z"]);
  assert.deepEqual(nextOccurrences("@daily", "UTC", t, 0), []);
});

// Europe/Berlin 2026: clocks jump 02:00 -> 03:00 CET->CEST on Sun 29 March,
// and fall back 03:00 -> 02:00 CEST->CET on Sun 25 October.
test("DST: a fixed-time job in the spring gap runs once at the first instant after it (03:00 CEST)", () => {
  const runs = iso(nextOccurrences("30 2 * * *", "Europe/Berlin", new Date("2026-03-27T12:00:00Z"), 4));
  assert.deepEqual(runs, [
    "2026-03-28T01:30:00.000Z", // 02:30 CET
    "2026-03-29T01:00:00.000Z", // 02:30 does not exist: runs at 03:00 CEST, once
    "2026-03-30T00:30:00.000Z", // 02:30 CEST
    "2026-03-31T00:30:00.000Z",
  ]);
});

test("DST: a fixed-time job in the repeated autumn hour runs once, at the first occurrence (CEST)", () => {
  const runs = iso(nextOccurrences("30 2 * * *", "Europe/Berlin", new Date("2026-10-23T12:00:00Z"), 4));
  assert.deepEqual(runs, [
    "2026-10-24T00:30:00.000Z", // 02:30 CEST
    "2026-10-25T00:30:00.000Z", // 02:30 CEST; the second 02:30 (CET, 01:30Z) does not run
    "2026-10-26T01:30:00.000Z", // 02:30 CET
    "2026-10-27T01:30:00.000Z",
  ]);
});

test("DST: interval jobs skip the missing hour and run in both copies of the repeated one", () => {
  const spring = iso(nextOccurrences("*/30 * * * *", "Europe/Berlin", new Date("2026-03-29T00:15:00Z"), 4));
  // 01:30 CET (00:30Z), 03:00 CEST (01:00Z): every real 30 minutes, nothing in the gap.
  assert.deepEqual(spring, ["2026-03-29T00:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-29T01:30:00.000Z", "2026-03-29T02:00:00.000Z"]);
  const autumn = iso(nextOccurrences("*/30 * * * *", "Europe/Berlin", new Date("2026-10-25T00:15:00Z"), 4));
  // 02:30 CEST (00:30Z), 02:00 CET (01:00Z), 02:30 CET (01:30Z): local 02:xx happens twice.
  assert.deepEqual(autumn, ["2026-10-25T00:30:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T01:30:00.000Z", "2026-10-25T02:00:00.000Z"]);
});

test("bad input throws", () => {
  assert.throws(() => nextOccurrences("*/61 * * * *", "UTC", new Date(), 1));
  assert.throws(() => nextOccurrences("* * * * *", "Mars/Olympus", new Date(), 1));
  assert.throws(() => nextOccurrences("* * * * * * *", "UTC", new Date(), 1), /5 or 6 parts/);
});
