/** Starting points for `hangar new <name> --template ...`; `__NAME__` becomes the function's name. */
export const TEMPLATES: Record<string, string> = {
  http: `// GET /functions/v1/__NAME__?name=you
// env holds secrets and vars: \`hangar secrets set\`, or .env in \`hangar dev\`.
export default {
  async fetch(request: Request, env: Record<string, string>): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("name") ?? "world";
    console.log("greeting", name);
    return Response.json({ message: \`\${env.GREETING ?? "Hello"}, \${name}!\` });
  },
};
`,
  cron: `// Runs every five minutes (exactly once per occurrence across instances).
import { sql, type ScheduledEvent } from "hangar";

export const config = {
  schedule: "*/5 * * * *",
  timezone: "UTC",
  overlap: "skip",
};

export default {
  async scheduled(event: ScheduledEvent): Promise<void> {
    const [row] = await sql\`select now() as now\`;
    console.log("tick", event.scheduledTime, row.now);
  },
};
`,
  event: `// Runs once for each new row of public.__TABLE__ (create the table first:
//   hangar sql "create table __TABLE__ (id bigint generated always as identity primary key, body text)"
import { sql, type TableEvent } from "hangar";

export const config = {
  events: ["public.__TABLE__:insert"],
  delivery: "at-least-once",
};

export default {
  async event(event: TableEvent): Promise<void> {
    console.log(event.op, event.table, JSON.stringify(event.new));
    const [row] = await sql\`select count(*)::int as n from __TABLE__\`;
    console.log("rows now", row.n);
  },
};
`,
  search: `// Semantic search: POST {"id","text"} to add, GET ?q=... to search.
// The embedder here is a toy (letter trigrams hashed into 64 dimensions) so it
// works offline; call a real embedding API with fetch for real use.
import { vector } from "hangar";

const DIM = 64;
function embed(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  const s = \` \${text.toLowerCase()} \`;
  for (let i = 0; i + 3 <= s.length; i++) {
    let h = 0;
    for (const c of s.slice(i, i + 3)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    v[h % DIM] += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method === "POST") {
      const { id, text } = (await request.json()) as { id: string; text: string };
      await vector.upsert("__NAME__", [{ id, embedding: embed(text), content: text }]);
      return Response.json({ stored: id });
    }
    const q = new URL(request.url).searchParams.get("q") ?? "";
    return Response.json(await vector.search("__NAME__", embed(q), { k: 5 }));
  },
};
`,
};
