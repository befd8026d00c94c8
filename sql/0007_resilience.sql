-- Database resilience (issue 20).
--
-- infra_failures: attempts that failed because the database (not the
-- handler) failed: a lost session, a restart, an exhausted pool. They are
-- retried with back-off without spending the handler's attempts and never
-- dead-letter an event on their own.
alter table hangar.events add column infra_failures int not null default 0;
