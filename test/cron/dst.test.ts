// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { manualClock, startScheduler } from "../../host/cron/index.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { callbackInvoker, cursorOf, fn, ledger, waitFor } from "./harness.ts";

let t: TestDatabase;
before(async () => (t = await createTestDatabase()));
after(() => t.close());

/**
 * Step the clock through a DST change in 30-minute steps and check every
 * occurrence is run at the expected UTC instant, no more, no fewer. The steps
 * are coarse, so the grace is an hour: each occurrence counts as on time.
 */
async function across(label: string, from: string, to: string, expected: Record<string, string[]>) {
  const clock = manualClock(new Date(from));
  const { invoker, callsOf } = callbackInvoker();
  const functions = [
    fn(`${label}-0230`, { schedule: "30 2 * * *", timezone: "Europe/Berlin" }),
    fn(`${label}-0200`, { schedule: "0 2 * * *", timezone: "Europe/Berlin" }),
    fn(`${label}-hourly`, { schedule: "0 * * * *", timezone: "Europe/Berlin" }),
  ];
  const s = await startScheduler({ db: t.db, invoker, functions: () => functions, nodeId: "dst", clock, options: { tickMs: 5, graceMs: 3_600_000 } });
  try {
    for (const f of functions) await waitFor(`first sight of ${f.name}`, () => cursorOf(t.db, f.name));
    const all = Object.values(expected).flat().map((d) => Date.parse(d));
    while (clock.peek().getTime() < Date.parse(to)) {
      clock.advance(30 * 60_000);
      const now = clock.peek().getTime();
      const want = all.filter((d) => d <= now).length;
      await waitFor(`runs up to ${clock.peek().toISOString()}`, async () => {
        let n = 0;
        for (const f of functions) n += (await ledger(t.db, f.name)).filter((r) => r.status === "succeeded").length;
        return n >= want;
      });
    }
  } finally {
    await s.close();
  }
  for (const f of functions) {
    const key = f.name.slice(label.length + 1);
    const rows = await ledger(t.db, f.name);
    assert.deepEqual(rows.map((r) => r.scheduled_at.toISOString()), expected[key], `${f.name} ledger`);
    assert.deepEqual(callsOf(f.name).map((c) => new Date(c.scheduledTime).toISOString()), expected[key], `${f.name} scheduledTime`);
  }
}

const hours = (fromIso: string, n: number) => Array.from({ length: n }, (_, i) => new Date(Date.parse(fromIso) + i * 3_600_000).toISOString());

test(`${backend}: Europe/Berlin spring forward (2026-03-29): a time in the gap runs once at 03:00 CEST`, async () => {
  await across("spring", "2026-03-28T00:10:00.000Z", "2026-03-30T03:10:00.000Z", {
    // 02:30 CET = 01:30Z; on the 29th 02:30 does not exist: 03:00 CEST = 01:00Z; then 02:30 CEST = 00:30Z
    "0230": ["2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"],
    "0200": ["2026-03-28T01:00:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:00:00.000Z"],
    // local 02:00 on the 29th never happens, so UTC hours stay contiguous: 51 of them
    hourly: hours("2026-03-28T01:00:00.000Z", 51),
  });
});

test(`${backend}: Europe/Berlin fall back (2026-10-25): a time in the repeated hour runs once, hourly runs both 02:00s`, async () => {
  await across("autumn", "2026-10-23T23:50:00.000Z", "2026-10-26T02:50:00.000Z", {
    // 02:30 CEST = 00:30Z; the 25th's 02:30 happens twice (00:30Z, 01:30Z): once, the first; then 02:30 CET = 01:30Z
    "0230": ["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
    "0200": ["2026-10-24T00:00:00.000Z", "2026-10-25T00:00:00.000Z", "2026-10-26T01:00:00.000Z"],
    // local 02:00 twice on the 25th (00:00Z CEST and 01:00Z CET): still one per UTC hour, 51 of them
    hourly: hours("2026-10-24T00:00:00.000Z", 51),
  });
});
