import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import ts from "typescript";
import { HANGAR_TYPES_PATH } from "../../host/build/index.ts";
import { project } from "./fixtures.ts";

// A user's function typechecks against hangar.d.ts alone (plus the DOM lib for Web globals).
test("hangar.d.ts types the hangar module, handlers and config", async () => {
  assert.ok(existsSync(HANGAR_TYPES_PATH));
  const p = await project({ nodeModules: false });
  try {
    const good = await p.write("functions/good.ts", `
import { sql, vector, type Env, type Context, type ScheduledEvent, type TableEvent, type NotifyEvent, type Handlers, type Config } from "hangar";
export default {
  async fetch(request: Request, env: Env, ctx: Context): Promise<Response> {
    const rows = await sql<{ n: number }>\`select \${1}::int as n\`;
    const more = await sql.query("select $1::int + 1 as n", [41]);
    await sql.begin(async (tx) => { await tx\`select 1\`; await tx.query("select 2"); });
    await vector.upsert("docs", [{ id: "a", embedding: [1, 2], content: "x", metadata: { lang: "en" } }]);
    const hits = await vector.search("docs", [1, 2], { k: 5, filter: { lang: "en" } });
    ctx.waitUntil(vector.remove("docs", ["a"]));
    return Response.json({ n: rows[0]!.n, more, best: hits[0]?.score, id: ctx.requestId, who: ctx.auth, key: env.KEY });
  },
  async scheduled(event: ScheduledEvent) { console.log(event.cron, event.scheduledTime); },
  async event(event: TableEvent) { console.log(event.op, event.new); },
  async notify(event: NotifyEvent) { console.log(event.channel, event.payload); },
} satisfies Handlers;
export const config = { schedule: "@hourly", limits: { cpuMs: 100 } } satisfies Config;
Deno.serve(async (req) => new Response(req.url));
const BOOK_ROUTE = new URLPattern({ pathname: "/books/:id" });
const id: string | undefined = BOOK_ROUTE.exec("https://x/books/1")?.pathname.groups.id;
EdgeRuntime.waitUntil(Promise.resolve(id));
Deno.unrefTimer(setTimeout(() => {}, 1));
`);
    const bad = await p.write("functions/bad.ts", `
import { sql, type Config } from "hangar";
const n: number = await sql.query(1);
export const config = { schedul: "@hourly" } satisfies Config;
`);
    const diags = (file: string) => {
      const program = ts.createProgram([file, HANGAR_TYPES_PATH], {
        strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"], types: [],
      });
      return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    };
    assert.deepEqual(diags(good), []);
    const badDiags = diags(bad).join("\n");
    assert.match(badDiags, /not assignable to parameter of type 'string'/);
    assert.match(badDiags, /'schedul' does not exist in type 'Config'/);
  } finally {
    await p.close();
  }
});
