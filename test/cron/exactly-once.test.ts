// @both-backends
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { manualClock, startScheduler, type Clock, type Scheduler } from "../../host/cron/index.ts";
import type { ActiveFunction } from "../../host/registry/types.ts";
import { backend, createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { callbackInvoker, cursorOf, fn, iso, ledger, waitFor } from "./harness.ts";

let t: TestDatabase;
before(async () => (t = await createTestDatabase()));
after(() => t.close());

/** A clock `skewMs` off the shared one, counting how often its scheduler has read it. */
const skewed = (base: ReturnType<typeof manualClock>, skewMs: number): Clock & { reads: number } => {
  const clock = { reads: 0, now: async () => (clock.reads++, new Date(base.peek().getTime() + skewMs)) };
  return clock;
};

/** Start one scheduler per clock on the same database, all seeing the same functions. */
async function fleet(clocks: Clock[], functions: ActiveFunction[], invoker: ReturnType<typeof callbackInvoker>["invoker"]): Promise<Scheduler[]> {
  return Promise.all(
    clocks.map((clock, i) =>
      startScheduler({
        db: t.db, invoker, functions: () => functions, nodeId: `node-${i}`, clock,
        // The manual clock runs ~40x faster than real time: keep the dead-run sweep out of the way.
        options: { tickMs: 5, heartbeatMs: 50, deadAfterMs: 3_600_000, catchUpCap: 1000 },
      }),
    ),
  );
}

/** Move the shared clock one second at a time, letting the schedulers race for each occurrence. */
async function drive(base: ReturnType<typeof manualClock>, seconds: number, realMsPerSecond = 25) {
  for (let i = 0; i < seconds; i++) {
    base.advance(1000);
    await new Promise((r) => setTimeout(r, realMsPerSecond));
  }
}

async function assertEachOnce(name: string, calls: { scheduledTime: number }[], minCount: number) {
  const rows = await ledger(t.db, name);
  assert.ok(rows.length >= minCount, `${name}: only ${rows.length} occurrences recorded`);
  for (let i = 1; i < rows.length; i++) {
    assert.equal(rows[i].scheduled_at.getTime() - rows[i - 1].scheduled_at.getTime(), 1000, `${name}: gap before ${iso(rows[i].scheduled_at)}`);
  }
  assert.deepEqual([...new Set(rows.map((r) => r.status))], ["succeeded"], JSON.stringify(rows.filter((r) => r.status !== "succeeded")));
  const perOccurrence = new Map<number, number>();
  for (const c of calls) perOccurrence.set(c.scheduledTime, (perOccurrence.get(c.scheduledTime) ?? 0) + 1);
  const twice = [...perOccurrence].filter(([, n]) => n > 1).map(([at]) => iso(at));
  assert.deepEqual(twice, [], `${name}: occurrences run more than once`);
  assert.deepEqual([...perOccurrence.keys()].sort(), rows.map((r) => r.scheduled_at.getTime()));
  return rows;
}

test(`${backend}: four schedulers racing on one database run each occurrence exactly once`, async () => {
  const base = manualClock(new Date("2026-06-01T12:00:00.250Z"));
  const { invoker, callsOf } = callbackInvoker({ race: () => new Promise((r) => setTimeout(r, Math.random() * 10)) });
  const s = await fleet([base, base, base, base], [fn("race", { schedule: "* * * * * *", catchUp: "all", overlap: "allow" })], invoker);
  try {
    await waitFor("first sight of the schedule", () => cursorOf(t.db, "race"));
    await drive(base, 40);
    await waitFor("the last occurrence", async () => (await ledger(t.db, "race")).filter((r) => r.status === "succeeded").length >= 40);
  } finally {
    await Promise.all(s.map((x) => x.close()));
  }
  const rows = await assertEachOnce("race", callsOf("race"), 40);
  assert.equal(rows[rows.length - 1].scheduled_at.toISOString(), "2026-06-01T12:00:40.000Z");
});

test(`${backend}: clocks seconds apart still give one run per occurrence`, async () => {
  const base = manualClock(new Date("2026-06-02T12:00:00.250Z"));
  const { invoker, callsOf } = callbackInvoker();
  const clocks = [skewed(base, -2_500), skewed(base, 0), skewed(base, 3_700)];
  const s = await fleet(clocks, [fn("skew", { schedule: "* * * * * *", catchUp: "all", overlap: "allow" })], invoker);
  try {
    await waitFor("first sight of the schedule", () => cursorOf(t.db, "skew"));
    await drive(base, 40);
    // Let the slowest clock (now 12:00:44.75) pass the occurrences the fastest one ran
    // before the jump (up to 43): no one may run them again. The fastest reaches 12:00:50.95.
    base.advance(7_000);
    await waitFor("every occurrence up to the fastest clock's last, run and recorded", async () => {
      const rows = await ledger(t.db, "skew");
      return rows.at(-1)?.scheduled_at.toISOString() === "2026-06-02T12:00:50.000Z" && rows.every((r) => r.status === "succeeded") && callsOf("skew").length >= rows.length;
    });
    // Each scheduler then completes two more ticks at its final time (its third read has begun).
    const reads = clocks.map((c) => c.reads);
    await waitFor("two more ticks of every scheduler", () => clocks.every((c, i) => c.reads >= reads[i] + 3));
  } finally {
    await Promise.all(s.map((x) => x.close()));
  }
  await assertEachOnce("skew", callsOf("skew"), 40);
});

test(`${backend}: an internal job (log rotation) gets the same exactly-once ledger`, async () => {
  const base = manualClock(new Date("2026-06-03T00:00:00.500Z"));
  const ran: number[] = [];
  const { invoker } = callbackInvoker();
  const s = await fleet([base, base, base], [], invoker);
  const removers = s.map((x) => x.scheduleInternal("_logs-rotate", "* * * * * *", async ({ scheduledAt }) => void ran.push(scheduledAt.getTime()), { catchUp: "all", overlap: "allow" }));
  try {
    assert.throws(() => s[0].scheduleInternal("logs-rotate", "* * * * *", async () => {}), /must match/);
    await waitFor("first sight of the job", () => cursorOf(t.db, "_logs-rotate"));
    await drive(base, 20);
    await waitFor("the last occurrence", async () => (await ledger(t.db, "_logs-rotate")).filter((r) => r.status === "succeeded").length >= 20);
    removers.forEach((r) => r());
  } finally {
    await Promise.all(s.map((x) => x.close()));
  }
  await assertEachOnce("_logs-rotate", ran.map((scheduledTime) => ({ scheduledTime })), 20);
});
