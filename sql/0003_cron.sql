-- Cron: the run ledger and the per-schedule cursor.
--
-- The primary key (function_name, scheduled_at) is what makes an occurrence
-- run at most once across the fleet: every instance that sees it due tries
-- `insert ... on conflict do nothing returning`, and only the row's creator
-- runs it. Names beginning with "_" are Hangar's own maintenance jobs, so no
-- foreign key to hangar.functions.

create table hangar.cron_runs (
  function_name text not null,
  scheduled_at timestamptz not null,
  run_id uuid not null unique,
  -- queued: claimed, waiting behind an earlier run of the same claim batch;
  -- missed: not run because of catchUp; died: its instance stopped heartbeating.
  status text not null check (status in ('queued', 'running', 'succeeded', 'failed', 'skipped', 'missed', 'died')),
  -- why it was skipped, missed or died
  reason text,
  node_id text not null,
  -- true when the occurrence was run late, as a catch-up
  catch_up boolean not null default false,
  -- 1 for every run today (occurrences are never retried); kept so a retry policy can land without a migration
  attempt int not null default 1,
  version_id bigint,
  -- the invocation's request id, to find its logs
  request_id text,
  claimed_at timestamptz not null,
  started_at timestamptz,
  finished_at timestamptz,
  heartbeat_at timestamptz,
  duration_ms int,
  error text,
  primary key (function_name, scheduled_at)
);

-- The sweep for dead runs and the overlap check look only at unfinished runs.
create index cron_runs_active on hangar.cron_runs (function_name, heartbeat_at) where status in ('queued', 'running');

-- One row per schedule ever seen: the occurrence up to which it has been
-- handled. Occurrences after it and not later than now are due. Written on
-- first sight with the time it was first seen, so a new schedule does not
-- catch up on history from before its deploy; reset the same way when the
-- schedule or zone changes.
create table hangar.cron_state (
  function_name text primary key,
  schedule text not null,
  timezone text not null,
  last_scheduled_at timestamptz not null,
  updated_at timestamptz not null default now()
);
