// A table event: every new row in public.signups gets a welcome message in
// public.welcome_messages, written once per signup even when an event is
// retried (delivery is at-least-once; the insert is idempotent by email).
//
// The tables it expects (create them before deploying; a deploy naming a
// missing table fails):
//
//   create table public.signups (
//     id bigint generated always as identity primary key,
//     email text not null unique,
//     name text,
//     created_at timestamptz not null default now()
//   );
//   create table public.welcome_messages (
//     email text primary key,
//     body text not null,
//     signup_event text not null,
//     created_at timestamptz not null default now()
//   );
//
// Try it: `insert into signups (email, name) values ('ada@example.com', 'Ada');`
// then GET /functions/v1/on-signup lists the latest welcome messages, and
// `hangar events list --function on-signup` shows the event it handled.
import { sql, type TableEvent } from "hangar";

export const config = {
  events: ["public.signups:insert"],
  delivery: "at-least-once",
};

interface Signup {
  id: string;
  email: string;
  name: string | null;
}

export default {
  async event(event: TableEvent<Signup & Record<string, unknown>>) {
    const signup = event.new!;
    const body = `Welcome to the hangar, ${signup.name?.trim() || signup.email}!`;
    await sql`insert into welcome_messages (email, body, signup_event)
      values (${signup.email}, ${body}, ${event.id})
      on conflict (email) do nothing`;
    console.log(`welcomed ${signup.email} (event ${event.id}, attempt ${event.attempt})`);
  },

  async fetch() {
    const rows = await sql`select email, body, created_at from welcome_messages order by created_at desc limit 20`;
    return Response.json(rows);
  },
};
