import { Cron } from "croner";

/**
 * Parses a cron schedule: 5 fields, 6 fields (seconds first), or a nickname
 * (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly). Throws on a bad pattern or zone.
 *
 * DST, as croner does it (asserted in test/build/schedule.test.ts): a fixed-time schedule
 * (single second, minute and hour, like "30 2 * * *") whose time falls in the spring-forward
 * gap runs once at the first valid instant after the gap (03:00); in the repeated autumn hour it
 * runs once, at the first occurrence. Interval schedules ("*\/30 * * * *") skip times in the gap
 * and run at both occurrences of a repeated time, since those are distinct instants.
 */
export function parseSchedule(schedule: string, timezone = "UTC"): Cron {
  return new Cron(schedule.trim(), { timezone, mode: "5-or-6-parts", paused: true });
}

/** The next `count` occurrences of `schedule` in `timezone`, strictly after `after`. */
export function nextOccurrences(schedule: string, timezone: string, after: Date, count: number): Date[] {
  if (count <= 0) return [];
  return parseSchedule(schedule, timezone).nextRuns(count, after);
}
