// What `npm start` serves on a fresh clone: the shipped functions, on the embedded database.
import assert from "node:assert/strict";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";

const root = new URL("../../", import.meta.url).pathname;
let dir: string;
let dev: ServerProcess;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "hangar-shipped-"));
  await cp(join(root, "functions"), join(dir, "functions"), { recursive: true });
  dev = await startServerProcess(["dev"], { DATABASE_URL: "", HANGAR_ADMIN_TOKEN: "" }, { cwd: dir, timeoutMs: 120_000 });
  // dev prints each function's URL once deployed
  for (let i = 0; i < 300 && !/functions\/v1\/search/.test(dev.output()); i++) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  await dev?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("hello answers", async () => {
  const res = await fetch(`${dev.url}/functions/v1/hello?name=Ada`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).message, "Hello, Ada!");
});

test("search returns ranked results from the bundled corpus, offline", async () => {
  const res = await fetch(`${dev.url}/functions/v1/search?q=${encodeURIComponent("nearest neighbour search over embeddings")}&k=5`);
  assert.equal(res.status, 200);
  const { results } = await res.json();
  assert.equal(results.length, 5);
  for (let i = 1; i < results.length; i++) assert.ok(results[i - 1].score >= results[i].score, "best first");
  assert.ok(results.slice(0, 3).some((r: { topic: string }) => r.topic === "vectors"), JSON.stringify(results));
});

test("on-signup: setup, sign up, the table event writes the welcome", async () => {
  const setup = await fetch(`${dev.url}/functions/v1/on-signup/setup`, { method: "POST" });
  assert.deepEqual(await setup.json(), { ready: true, watching: "public.signups" });
  const signed = await fetch(`${dev.url}/functions/v1/on-signup`, { method: "POST", body: JSON.stringify({ email: "ada@example.com", name: "Ada" }) });
  assert.equal(signed.status, 201);
  let welcomes: { email: string; body: string }[] = [];
  for (let i = 0; i < 100 && !welcomes.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    welcomes = await (await fetch(`${dev.url}/functions/v1/on-signup`)).json();
  }
  assert.deepEqual(welcomes.map((w) => [w.email, w.body]), [["ada@example.com", "Welcome to the hangar, Ada!"]]);
});

test("CLI commands in another terminal go through the running dev server", async () => {
  const list = await runCli(["list", "--json"], { DATABASE_URL: "", HANGAR_ADMIN_TOKEN: "" }, { cwd: dir });
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).map((f: { name: string }) => f.name), ["hello", "nightly", "on-signup", "search"]);
  const cron = await runCli(["cron", "list", "--json"], { DATABASE_URL: "", HANGAR_ADMIN_TOKEN: "" }, { cwd: dir });
  assert.equal(cron.code, 0, cron.stderr);
  assert.match(cron.stdout, /nightly/);
});

test("dev redeploys on save, shows a build error inline and keeps serving", async () => {
  const { writeFile } = await import("node:fs/promises");
  const file = join(dir, "functions", "greet.ts");
  await writeFile(file, 'export default async () => new Response("v1");\n');
  const answer = async () => {
    const res = await fetch(`${dev.url}/functions/v1/greet`);
    return res.status === 200 ? res.text() : `status ${res.status}`;
  };
  const until = async (want: string) => {
    for (let i = 0; i < 100; i++) {
      if ((await answer()) === want) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  };
  assert.ok(await until("v1"), "new file deployed");
  await writeFile(file, 'import { readFileSync } from "node:fs";\nexport default async () => new Response(readFileSync("/etc/hostname", "utf8"));\n');
  for (let i = 0; i < 100 && !/greet\.ts:1:\d+: "node:fs" cannot be used in a Hangar function/.test(dev.output()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(dev.output(), /✗ greet: .*greet\.ts:1:\d+: "node:fs" cannot be used in a Hangar function/s);
  assert.equal(await answer(), "v1", "the last good version keeps serving");
  await writeFile(file, 'export default async () => new Response("v2");\n');
  assert.ok(await until("v2"), "fixed file redeployed");
});
