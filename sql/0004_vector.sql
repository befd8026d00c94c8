-- Vector collections (pgvector) and the role guest SQL runs as.

-- Collections: one table each in schema hangar_vectors, created on first
-- upsert by host/bindings/vector under a transaction-level advisory lock.
create schema if not exists hangar_vectors;

create table hangar.vector_collections (
  name text primary key check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  dimension int not null check (dimension between 1 and 2000),
  metric text not null default 'cosine' check (metric in ('cosine', 'l2', 'ip')),
  created_at timestamptz not null default now()
);

-- The role guest SQL runs as when a function configures none. Roles are
-- cluster-wide, so another database may have created it already.
do $$
begin
  create role hangar_guest nologin noinherit nosuperuser nocreatedb nocreaterole nobypassrls;
exception when duplicate_object then null;
end $$;

-- The host switches to the guest role with SET LOCAL ROLE; it must be able to.
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant hangar_guest to %I', current_user);
  end if;
end $$;

-- Application tables live in public: the guest role may use them (and the
-- ones the migrating role creates later) and create its own. Schema hangar
-- and hangar_vectors stay out of its reach.
grant usage, create on schema public to hangar_guest;
grant select, insert, update, delete, truncate on all tables in schema public to hangar_guest;
grant usage, select, update on all sequences in schema public to hangar_guest;
alter default privileges in schema public grant select, insert, update, delete, truncate on tables to hangar_guest;
alter default privileges in schema public grant usage, select, update on sequences to hangar_guest;

-- set_config() would let guest SQL undo what the host set for it: the role
-- (checked against the session user, who may switch anywhere), the verified
-- claims and the timeouts. Only the roles granted here may call it. Changing
-- a pg_catalog grant needs a superuser; without one the migration warns and
-- the bindings report the guest role as not isolated (see host/bindings/sql/README.md).
do $$
begin
  revoke execute on function pg_catalog.set_config(text, text, boolean) from public;
  execute format('grant execute on function pg_catalog.set_config(text, text, boolean) to %I', current_user);
exception when insufficient_privilege then
  raise warning 'hangar: cannot revoke set_config from public (needs a superuser); guest SQL can change its own settings';
end $$;
