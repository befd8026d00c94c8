-- on-signup's tables. `hangar deploy` and `hangar dev` run this file before
-- deploying the function (it must be safe to run again), so the table its
-- event trigger watches exists on a fresh database.
create table if not exists signups (
  id bigint generated always as identity primary key,
  email text not null unique,
  name text,
  created_at timestamptz not null default now()
);
create table if not exists welcome_messages (
  email text primary key,
  body text not null,
  signup_event text not null,
  created_at timestamptz not null default now()
);
