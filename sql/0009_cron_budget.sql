-- Cron under a storm (issue 20): a fleet-wide budget for starting runs, and
-- an honest ledger when it holds occurrences back.
--
-- One token bucket shared by every instance: a scheduler takes tokens (one
-- per occurrence it claims to run) in one short update of this row; the rate
-- and size come from each instance's configuration (HANGAR_CRON_MAX_RUNS_PER_SECOND).
-- Hangar's own jobs (names beginning with "_") take none.
create table hangar.cron_budget (
  id boolean primary key default true check (id),
  tokens float8 not null default 0,
  -- null: never taken from, the bucket is full
  refilled_at timestamptz
);
insert into hangar.cron_budget (id) values (true);

-- When a live scheduler saw a schedule's occurrences due but held them back
-- for the budget: occurrences in [watch_from, watch_to] that start late were
-- delayed by a busy fleet, not missed while no instance was running.
alter table hangar.cron_state add column watch_from timestamptz, add column watch_to timestamptz;
