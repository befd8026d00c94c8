// A table event: every new row in public.signups gets a welcome message in
// public.welcome_messages, written once per signup even when the event is
// retried (delivery is at-least-once; the insert is idempotent by email).
//
// Try it on a fresh `npm start`:
//   curl -X POST localhost:8787/functions/v1/on-signup/setup     # creates the two tables
//   curl -X POST localhost:8787/functions/v1/on-signup -d '{"email":"ada@example.com","name":"Ada"}'
//   curl localhost:8787/functions/v1/on-signup                   # the welcome messages
// `hangar events list --function on-signup` shows the events it handled. In
// production, create the tables with your own migrations before deploying: a
// deploy that names a missing table fails (`hangar dev` waits for it instead).
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

const TRIGGER = "hangar_evt_on-signup";

async function setup(): Promise<Response> {
  await sql`create table if not exists signups (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text,
    created_at timestamptz not null default now())`;
  await sql`create table if not exists welcome_messages (
    email text primary key,
    body text not null,
    signup_event text not null,
    created_at timestamptz not null default now())`;
  // `hangar dev` installs the trigger within a second of the table appearing.
  for (let i = 0; i < 50; i++) {
    const [t] = await sql`select count(*)::int as n from pg_trigger where tgname = ${TRIGGER}`;
    if (t.n > 0) return Response.json({ ready: true, watching: "public.signups" });
    await new Promise((r) => setTimeout(r, 100));
  }
  return Response.json({ ready: false, error: "the tables exist but no trigger watches public.signups yet: redeploy on-signup" }, { status: 503 });
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

  async fetch(request: Request) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname.endsWith("/setup")) return setup();
    if (request.method === "POST") {
      const { email, name = null } = (await request.json().catch(() => ({}))) as { email?: string; name?: string | null };
      if (!email || !email.includes("@")) return Response.json({ error: 'send {"email": "...", "name": "..."}' }, { status: 400 });
      try {
        const [row] = await sql`insert into signups (email, name) values (${email}, ${name})
          on conflict (email) do update set name = excluded.name returning id`;
        return Response.json({ signedUp: email, id: row.id }, { status: 201 });
      } catch (err) {
        if ((err as { code?: string }).code === "42P01") return Response.json({ error: "no signups table: POST /functions/v1/on-signup/setup first" }, { status: 409 });
        throw err;
      }
    }
    try {
      return Response.json(await sql`select email, body, created_at from welcome_messages order by created_at desc limit 20`);
    } catch (err) {
      if ((err as { code?: string }).code === "42P01") return Response.json([]);
      throw err;
    }
  },
};
