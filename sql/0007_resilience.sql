-- Database resilience (issue 20).
--
-- infra_failures: attempts that failed because the database (not the
-- handler) failed: a lost session, a restart, an exhausted pool. They are
-- retried with back-off without spending the handler's attempts and never
-- dead-letter an event on their own.
alter table hangar.events add column infra_failures int not null default 0;

-- Exactly-once attempts that were started, counted outside the attempt's
-- own transaction (which rolls back if the handler kills its instance), so
-- an event that crashes every instance that runs it is dead-lettered at the
-- limit instead of crash-looping the fleet.
create table hangar.event_starts (
  event_id bigint primary key,
  started int not null default 0
);
