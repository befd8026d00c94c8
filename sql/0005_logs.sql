-- Invocation logs: one row per invocation (whatever triggered it) with its
-- console lines, in day partitions on started_at.
--
-- Partitions are UNLOGGED: logs are diagnostics, not data, and skipping WAL
-- keeps writing them cheap. They are emptied by a crash and are not
-- replicated; that is the trade. The parent cannot be declared unlogged
-- (refused by PostgreSQL for partitioned tables), but it holds no rows;
-- each partition is created `create unlogged table ... partition of` by
-- host/logs/partitions.ts, for today and the next two days, and old ones
-- are dropped whole (never DELETE) past HANGAR_LOG_RETENTION_DAYS.
--
-- Console lines live in the same row as a jsonb array: `hangar logs` reads
-- an invocation and its lines with one index probe and no join, and a batch
-- of invocations is one INSERT.
--
-- `seq` is the follow cursor. Writers take a transaction-level advisory lock
-- around each batch INSERT, so seq order is commit order: once a reader has
-- seen seq N, no row with a smaller seq can still appear.

create sequence hangar.invocations_seq;

create table hangar.invocations (
  id uuid not null,
  seq bigint not null default nextval('hangar.invocations_seq'),
  started_at timestamptz not null,
  function_name text not null,
  version_id bigint,
  trigger text not null,
  status text not null,
  http_status int not null,
  duration_ms double precision not null,
  cpu_ms double precision not null,
  memory_bytes bigint not null,
  error_message text,
  -- source-mapped to the function's TypeScript
  error_stack text,
  request_id text not null,
  node_id text not null,
  -- [{ "level", "message", "time" }], null when the function printed nothing
  logs jsonb,
  written_at timestamptz not null default clock_timestamp()
) partition by range (started_at);

-- `hangar logs <name>`: one function, newest first.
create index invocations_by_function on hangar.invocations (function_name, started_at desc);
-- `hangar logs --since`: everything after a time.
create index invocations_by_time on hangar.invocations (started_at);
-- `hangar logs --follow`: everything after a cursor.
create index invocations_by_seq on hangar.invocations (seq);
