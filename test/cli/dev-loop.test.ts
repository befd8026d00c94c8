import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase, queryOnce } from "../helpers/db.ts";

let url: string;
let dir: string;
let fns: string;
let dev: ServerProcess;
const env = () => ({ DATABASE_URL: url, HANGAR_SECRET_KEY: "k", HANGAR_ADMIN_TOKEN: "t" });

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${dev?.output() ?? ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function body(name: string): Promise<string> {
  const res = await fetch(`${dev.url}/functions/v1/${name}`);
  return `${res.status} ${await res.text()}`;
}

const fn = (text: string, config = "") => `${config}\nexport default { fetch: () => new Response(${JSON.stringify(text)}), scheduled() {}, event() {} };\n`;

const query = <R extends object>(text: string, values: unknown[] = []): Promise<R[]> => queryOnce<R>(url, text, values);

before(async () => {
  url = await createPgDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-devloop-"));
  fns = join(dir, "functions");
  await mkdir(fns);
  await writeFile(join(fns, "good.ts"), fn("good 1"));
  await writeFile(join(fns, "myFunc.ts"), fn("bad name"));
  dev = await startServerProcess(["dev", "--dir", fns], env(), { cwd: dir });
  await waitFor("good deployed", () => dev.output().includes("/functions/v1/good"));
});

after(async () => {
  await dev?.stop();
  await dropPgDatabase(url);
  await rm(dir, { recursive: true, force: true });
});

test("a bad file name is reported at start, with no stack, and the others deploy and keep redeploying", async () => {
  assert.match(dev.output(), /✗ functions\/myFunc\.ts: "myFunc" is not a valid function name/);
  assert.doesNotMatch(dev.output(), /\n\s+at /);
  await waitFor("good 1 served", async () => (await body("good")) === "200 good 1");
  await writeFile(join(fns, "good.ts"), fn("good 2"));
  await waitFor("good 2 served", async () => (await body("good")) === "200 good 2");
});

test("saves by rename (sed -i, safe write) keep being picked up, again and again", async () => {
  for (const n of [3, 4, 5]) {
    const tmp = join(fns, `.good.ts.tmp${n}`);
    await writeFile(tmp, fn(`good ${n}`));
    await rename(tmp, join(fns, "good.ts"));
    await waitFor(`good ${n} served`, async () => (await body("good")) === `200 good ${n}`);
  }
});

test("dev prints the URL of a function added later, and one line per request with its console output", async () => {
  await writeFile(join(fns, "later.ts"), `export default { fetch() { console.log("said hi from later"); return new Response("later"); } };\n`);
  await waitFor("later URL", () => dev.output().includes(`${dev.url}/functions/v1/later`));
  await waitFor("later served", async () => (await body("later")) === "200 later");
  await waitFor("request line", () => /http later 200 [\d.]+ ms\n\s+\| said hi from later/.test(dev.output()));
});

test("a rollback holds until that function's own file changes, not on another file's save", async () => {
  await writeFile(join(fns, "pinned.ts"), fn("pinned 1"));
  await waitFor("pinned 1", async () => (await body("pinned")) === "200 pinned 1");
  await writeFile(join(fns, "pinned.ts"), fn("pinned 2"));
  await waitFor("pinned 2", async () => (await body("pinned")) === "200 pinned 2");
  const r = await runCli(["rollback", "pinned"], env(), { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  await waitFor("pinned back at 1", async () => (await body("pinned")) === "200 pinned 1");
  await writeFile(join(fns, "good.ts"), fn("good 6"));
  await waitFor("good 6", async () => (await body("good")) === "200 good 6");
  assert.equal(await body("pinned"), "200 pinned 1");
});

test("deleting a file removes its function, table triggers and cron schedule", async () => {
  await query("create table if not exists public.doomed_rows (id int primary key)");
  await writeFile(join(fns, "doomed.ts"), fn("doomed", `export const config = { schedule: "* * * * * *", events: ["public.doomed_rows:insert"] };`));
  await waitFor("doomed served", async () => (await body("doomed")) === "200 doomed");
  await waitFor("doomed ticked", async () => (await query("select 1 from hangar.cron_runs where function_name = 'doomed'")).length > 0);
  assert.equal((await query("select 1 from pg_trigger where tgname = 'hangar_evt_doomed'")).length, 1);
  await unlink(join(fns, "doomed.ts"));
  await waitFor("doomed deleted", () => /- doomed: deleted/.test(dev.output()));
  await waitFor("doomed 404", async () => /^404 /.test(await body("doomed")));
  assert.deepEqual(await query("select 1 from hangar.functions where name = 'doomed'"), []);
  assert.deepEqual(await query("select 1 from pg_trigger where tgname = 'hangar_evt_doomed'"), []);
  assert.deepEqual(await query("select 1 from hangar.cron_state where function_name = 'doomed'"), []);
  // No more ticks: the last run stays the last.
  const [{ n }] = await query<{ n: number }>("select count(*)::int as n from hangar.cron_runs where function_name = 'doomed'");
  await new Promise((r) => setTimeout(r, 2500)); // two would-be occurrences of an every-second schedule
  const [{ n: later }] = await query<{ n: number }>("select count(*)::int as n from hangar.cron_runs where function_name = 'doomed'");
  assert.equal(later, n);
});

test("`hangar delete` removes a function with its triggers and schedule; `hangar versions` lists versions", async () => {
  await query("create table if not exists public.gone_rows (id int primary key)");
  await writeFile(join(fns, "gone.ts"), fn("gone", `export const config = { schedule: "@hourly", events: ["public.gone_rows:insert"] };`));
  await waitFor("gone served", async () => (await body("gone")) === "200 gone");
  const v = await runCli(["versions", "gone"], env(), { cwd: dir });
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^\*\s+1\s+[0-9a-f]{12}\s/m);
  await unlink(join(fns, "gone.ts")); // dev then deletes it too; the CLI delete may race it
  const d = await runCli(["delete", "gone"], env(), { cwd: dir });
  assert.ok(d.code === 0 || /not deployed/.test(d.stderr), d.stderr);
  await waitFor("gone 404", async () => /^404 /.test(await body("gone")));
  assert.deepEqual(await query("select 1 from pg_trigger where tgname = 'hangar_evt_gone'"), []);
  assert.deepEqual(await query("select 1 from hangar.cron_state where function_name = 'gone'"), []);
  assert.deepEqual(await query("select 1 from hangar.event_triggers where function_name = 'gone'"), []);
  const again = await runCli(["delete", "gone"], env(), { cwd: dir });
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim(), 'hangar delete: function "gone" is not deployed');
});
