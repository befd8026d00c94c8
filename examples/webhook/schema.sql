-- The table the webhook receiver stores into. Apply once: hangar sql -f schema.sql
create table if not exists webhook_events (
  delivery_id text primary key,
  event text not null,
  payload jsonb not null,
  received_at timestamptz not null default now()
);
