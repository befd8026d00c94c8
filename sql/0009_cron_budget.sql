-- Cron under a storm (issue 20): a fleet-wide budget for starting runs, and
-- a ledger that tells a busy fleet from one that was down.
--
-- One row every instance shares. The token bucket: a scheduler takes tokens
-- (one per occurrence of a function's schedule it claims to run) in one
-- short update; rate and size come from each instance's configuration
-- (HANGAR_CRON_MAX_RUNS_PER_SECOND). Hangar's own jobs take none.
-- alive_from..alive_to: the current stretch during which some scheduler kept
-- heartbeating. An occurrence inside it that starts late was held back by a
-- busy fleet and runs late; only one outside it was missed while no instance
-- was running (catchUp decides those).
create table hangar.cron_fleet (
  id boolean primary key default true check (id),
  tokens float8 not null default 0,
  -- null: never taken from, the bucket is full
  refilled_at timestamptz,
  alive_from timestamptz,
  alive_to timestamptz
);
insert into hangar.cron_fleet (id) values (true);
