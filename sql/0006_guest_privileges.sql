-- What guest roles may not call, whatever statement hides the call.
--
-- Advisory locks: a session-level lock taken by guest SQL outlives its
-- invocation on a pooled session and blocks migrate, deploy, cron and the
-- log writer, which use the same functions. pg_notify: guests could wake
-- (or flood) Hangar's own channels (hangar_events, hangar_registry, ...).
-- Large objects (lo_*, loread, lowrite): storage outside any table, beyond
-- table privileges and row limits.
--
-- These functions are granted to PUBLIC by Postgres, and a revoke from one
-- role does not undo a grant to PUBLIC: so EXECUTE is revoked from PUBLIC and
-- granted back to the migrating role (the host). Other non-superuser roles
-- of this database that need them must be granted explicitly. Changing a
-- pg_catalog grant needs a superuser; without one the migration warns (see
-- host/bindings/sql/README.md), and the SQL gate still refuses lo_* calls.
do $$
declare
  f regprocedure;
begin
  for f in
    select p.oid::regprocedure from pg_catalog.pg_proc p
     where p.pronamespace = 'pg_catalog'::regnamespace
       and (p.proname like 'pg\_advisory\_%' or p.proname like 'pg\_try\_advisory\_%'
            or p.proname = 'pg_notify'
            or p.proname like 'lo\_%' or p.proname in ('loread', 'lowrite'))
  loop
    execute format('revoke execute on function %s from public', f);
    execute format('grant execute on function %s to %I', f, current_user);
  end loop;
exception when insufficient_privilege then
  raise warning 'hangar: cannot revoke advisory-lock, pg_notify and large-object functions from public (needs a superuser); guest SQL can still call them';
end $$;

-- Vector collections belong to the function that made them (scope = its
-- name) unless it names the shared namespace (scope ''). Collections made
-- before this migration had one global namespace: they become shared, under
-- their old table names. Each collection table shows rows to guest roles
-- only while the host has set hangar.vector_table to its name (see
-- host/bindings/vector/collections.ts); the owner (the host) is unaffected.
alter table hangar.vector_collections add column scope text not null default '';
alter table hangar.vector_collections add column table_name text;
update hangar.vector_collections set table_name = name;
alter table hangar.vector_collections alter column table_name set not null;
alter table hangar.vector_collections alter column scope drop default;
alter table hangar.vector_collections drop constraint vector_collections_pkey;
alter table hangar.vector_collections add primary key (scope, name);
alter table hangar.vector_collections add constraint vector_collections_table_key unique (table_name);

do $$
declare
  t text;
begin
  for t in select table_name from hangar.vector_collections loop
    execute format('alter table hangar_vectors.%I enable row level security', t);
    execute format('create policy scoped on hangar_vectors.%I using (pg_catalog.current_setting(''hangar.vector_table'', true) = %L) with check (pg_catalog.current_setting(''hangar.vector_table'', true) = %L)', t, t, t);
  end loop;
end $$;

-- The client's x-request-id, kept for correlation; request_id is always server-made.
alter table hangar.invocations add column correlation_id text;
