// The README's walk from `npm start` to production, run as real processes in a
// project folder: hangar new, .env, dev, the user's own test with
// hangar/testing, hangar delete, then deploy and start on a fresh database.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, startServerProcess, type ServerProcess } from "../helpers/cli.ts";
import { createPgDatabase, dropPgDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/wait.ts";

const root = new URL("../../", import.meta.url).pathname;
let readme: string;
let project: string;
const dbs: string[] = [];
const servers: ServerProcess[] = [];

/** The lines of the code block after `<!-- NAME -->`. */
function block(name: string): string[] {
  const m = new RegExp(`<!-- ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  assert.ok(m, `README has a ${name} block`);
  return m[1].split("\n").filter(Boolean);
}

/** `npx hangar deploy --dir functions   # comment` -> ["deploy", "--dir", "functions"] */
const hangarArgs = (line: string) => line.replace(/#.*$/, "").trim().replace(/^npx hangar /, "").split(/\s+/);

function sh(cmd: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // Not inside this test runner: a nested `node --test` would otherwise report to it instead of running.
    const { NODE_TEST_CONTEXT: _inner, ...outer } = process.env;
    const child = spawn("bash", ["-c", cmd], { cwd, env: { ...outer, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("exit", (code) => resolve({ code: code ?? 1, out }));
  });
}


before(async () => {
  readme = await readFile(join(root, "README.md"), "utf8");
  // Inside the repository (its ignored tmp/), as a clone is: `hangar/testing` resolves to this package.
  await mkdir(join(root, "tmp"), { recursive: true });
  project = await mkdtemp(join(root, "tmp", "walkthrough-"));
  await cp(join(root, "functions"), join(project, "functions"), { recursive: true });
});

after(async () => {
  for (const s of servers) await s.stop();
  for (const url of dbs) await dropPgDatabase(url);
  await rm(project, { recursive: true, force: true });
});

test("README walkthrough: new, .env, dev, the user's own test, delete; then deploy and start on a fresh database", { timeout: 600_000 }, async () => {
  const steps = block("readme-walkthrough");
  const newLine = steps.find((l) => l.startsWith("npx hangar new "))!;
  const made = await runCli(hangarArgs(newLine), {}, { cwd: project });
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /created functions\/greeter\.ts \(http\)/);

  const envLine = steps.find((l) => l.startsWith("echo "))!;
  assert.equal((await sh(envLine.replace(/#.*$/, ""), project)).code, 0);

  // `npm start` is `hangar dev`; here on a throwaway Postgres rather than the embedded one, to be quick.
  assert.ok(steps.some((l) => l.startsWith("npm start")));
  const devDb = await createPgDatabase();
  dbs.push(devDb);
  const env = { DATABASE_URL: devDb, HANGAR_SECRET_KEY: "k", HANGAR_ADMIN_TOKEN: "t" };
  const dev = await startServerProcess(["dev"], env, { cwd: project });
  servers.push(dev);
  await waitFor("greeter deployed", async () => dev.output().includes("/functions/v1/greeter"), 30_000);
  const curl = steps.findIndex((l) => l.startsWith("curl "));
  const path = /localhost:8787(\/[^']+)'/.exec(steps[curl])![1];
  const res = await fetch(`${dev.url}${path}`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), steps[curl + 1]);
  await waitFor("the request line and its console line", async () => /http greeter 200 .*\n\s+\| greeting Ada/.test(dev.output()), 30_000);

  // The user's own test, as the README shows it, run the way it says.
  const testCode = /<!-- readme-test: greeter -->\s*```ts\n([\s\S]*?)```/.exec(readme)![1];
  const runLine = /run with: (.*)/.exec(testCode)![1].trim();
  await mkdir(join(project, "test"), { recursive: true });
  await writeFile(join(project, "test", "greeter.test.ts"), testCode);
  const testDb = await createPgDatabase();
  dbs.push(testDb);
  const ran = await sh(runLine, project, { DATABASE_URL: testDb, NODE_OPTIONS: "" });
  assert.equal(ran.code, 0, ran.out);
  assert.match(ran.out, /# pass 1/);

  assert.match(readme, /`hangar delete greeter`/);
  const del = await runCli(["delete", "greeter"], env, { cwd: project });
  assert.equal(del.code, 0, del.stderr);
  await waitFor("greeter gone", async () => (await fetch(`${dev.url}${path}`)).status === 404, 30_000);
  await dev.stop();

  // Production, on a fresh database: the README's commands in order.
  const prodDb = await createPgDatabase();
  dbs.push(prodDb);
  const prod = { DATABASE_URL: prodDb, HANGAR_ADMIN_TOKEN: "admin-token", HANGAR_SECRET_KEY: "0123456789abcdef0123456789abcdef" };
  const lines = block("readme-production").filter((l) => l.startsWith("npx hangar "));
  let server: ServerProcess | undefined;
  for (const line of lines) {
    const args = hangarArgs(line);
    if (args[0] === "start") {
      server = await startServerProcess(args, prod, { cwd: project });
      servers.push(server);
      continue;
    }
    const r = await runCli(args, prod, { cwd: project });
    assert.equal(r.code, 0, `${line}\n${r.stdout}\n${r.stderr}`);
  }
  assert.ok(server, "the production block starts a server");
  const greeted = await waitFor("greeter served in production", async () => {
    const r = await fetch(`${server!.url}${path}`);
    return r.status === 200 ? r.json() : null;
  }, 30_000);
  assert.deepEqual(greeted, { message: "Ahoy, Ada!" });
  // on-signup deployed on the fresh database: its table exists and its trigger delivers.
  const signed = await fetch(`${server.url}/functions/v1/on-signup`, { method: "POST", body: JSON.stringify({ email: "ada@example.com", name: "Ada" }) });
  assert.equal(signed.status, 201);
  const welcomes = await waitFor("welcome written", async () => {
    const list = (await (await fetch(`${server!.url}/functions/v1/on-signup`)).json()) as { email: string }[];
    return list.length ? list : null;
  }, 30_000);
  assert.equal(welcomes[0].email, "ada@example.com");
});
