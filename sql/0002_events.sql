-- Durable table-change events, the triggers that capture them, and leases
-- for raw NOTIFY channels.
--
-- Ordering: an event's id is taken inside the AFTER ROW trigger, i.e. after
-- the changing transaction holds the row's lock (or, for a new key, after the
-- unique check waited out any concurrent writer of that key). So two events
-- of one row key are numbered in commit order even though identity values in
-- general are not. The dispatcher only lets the oldest unfinished event of a
-- (function, row_key) be claimed; events of different rows run in parallel.

create table hangar.events (
  id bigint generated always as identity primary key,
  function_name text not null,
  schema_name text not null,
  table_name text not null,
  op text not null check (op in ('insert', 'update', 'delete')),
  -- JSON array of the primary key values as text; null when the table has
  -- no primary key (such events are not ordered against each other).
  row_key text,
  old jsonb,
  new jsonb,
  status text not null default 'pending' check (status in ('pending', 'running', 'done', 'dead')),
  attempts int not null default 0,
  run_after timestamptz not null default now(),
  lease_until timestamptz,
  locked_by text,
  last_error text,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);

-- Claim scans: unfinished events of one function in id order.
create index events_unfinished on hangar.events (function_name, id) where status in ('pending', 'running');
-- The "oldest unfinished event of its row" check.
create index events_row_head on hangar.events (function_name, row_key, id) where status in ('pending', 'running');
-- Admin listing and retention.
create index events_by_status on hangar.events (status, id);

-- The triggers each function owns, so a deploy can drop the ones it no
-- longer needs even after its config forgot them.
create table hangar.event_triggers (
  function_name text not null,
  schema_name text not null,
  table_name text not null,
  trigger_name text not null,
  ops text[] not null,
  updated_at timestamptz not null default now(),
  primary key (function_name, schema_name, table_name)
);

-- Captures one change for one function (TG_ARGV[0]) in the changing
-- transaction. SECURITY DEFINER so a restricted role writing the table still
-- records the event; search_path pinned so the definer's rights cannot be
-- steered. NOTIFY is a wake-up only (payloads are capped at 8000 bytes and
-- identical ones are folded per transaction); the row is the truth.
create function hangar.capture_event() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  fn text := TG_ARGV[0];
  old_row jsonb;
  new_row jsonb;
  rec jsonb;
  rk text;
begin
  if TG_OP in ('UPDATE', 'DELETE') then old_row := to_jsonb(OLD); end if;
  if TG_OP in ('INSERT', 'UPDATE') then new_row := to_jsonb(NEW); end if;
  rec := coalesce(new_row, old_row);
  select jsonb_agg(rec -> a.attname::text order by k.ord)::text into rk
    from pg_index i
    cross join lateral unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
   where i.indrelid = TG_RELID and i.indisprimary;
  insert into hangar.events (function_name, schema_name, table_name, op, row_key, old, new)
  values (fn, TG_TABLE_SCHEMA, TG_TABLE_NAME, lower(TG_OP), rk, old_row, new_row);
  perform pg_notify('hangar_events', fn);
  return null;
end
$$;

-- Raw NOTIFY channels: every instance hears every notification, so one
-- instance at a time holds the lease for a (function, channel) and only it
-- invokes. A lease is renewed well before it ends and only taken over after.
create table hangar.notify_leases (
  function_name text not null,
  channel text not null,
  node_id text not null,
  lease_until timestamptz not null,
  primary key (function_name, channel)
);
