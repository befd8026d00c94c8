-- Hangar core: the function registry (immutable versions, one active each),
-- secrets and per-function API keys.

create extension if not exists vector;

create table hangar.functions (
  name text primary key check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  active_version bigint,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table hangar.versions (
  id bigint generated always as identity primary key,
  function_name text not null references hangar.functions (name) on delete cascade,
  version int not null,
  hash text not null,
  bundle text not null,
  source_map text,
  config jsonb not null,
  deployed_by text not null,
  created_at timestamptz not null default now(),
  unique (function_name, version)
);

create index versions_by_hash on hangar.versions (function_name, hash);

alter table hangar.functions
  add constraint functions_active_version_fk foreign key (active_version) references hangar.versions (id);

-- One row; bumped by every deploy and rollback so instances polling it
-- notice a switch even when they missed the NOTIFY.
create table hangar.registry_state (
  id boolean primary key default true check (id),
  generation bigint not null default 0
);
insert into hangar.registry_state default values;

create table hangar.deployments (
  id bigint generated always as identity primary key,
  function_name text not null references hangar.functions (name) on delete cascade,
  version_id bigint not null references hangar.versions (id),
  action text not null check (action in ('deploy', 'rollback')),
  actor text not null,
  at timestamptz not null default now()
);

-- scope '' holds global secrets; otherwise a function name.
create table hangar.secrets (
  scope text not null default '',
  name text not null check (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
  ciphertext bytea not null,
  updated_at timestamptz not null default now(),
  primary key (scope, name)
);

create table hangar.function_keys (
  id uuid primary key,
  function_name text not null references hangar.functions (name) on delete cascade,
  key_hash text not null unique,
  label text not null default '',
  created_at timestamptz not null default now()
);
