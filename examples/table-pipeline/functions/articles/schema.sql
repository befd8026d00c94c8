-- The application table the pipeline watches. `hangar deploy` and `hangar dev`
-- run this (idempotent) script before deploying the function.
create table if not exists public.articles (
  id bigint generated always as identity primary key,
  title text not null,
  body text not null,
  lang text not null default 'en',
  updated_at timestamptz not null default now()
);
