-- The app's tables this example cleans up, and where it writes its reports.
create table if not exists sessions (
  id text primary key,
  user_id text not null,
  last_seen_at timestamptz not null default now()
);
create index if not exists sessions_by_last_seen on sessions (last_seen_at);

create table if not exists cleanup_reports (
  scheduled_at timestamptz primary key,  -- one report per occurrence, even if a run is retried by hand
  cutoff timestamptz not null,
  pruned int not null,
  kept int not null,
  created_at timestamptz not null default now()
);
