// @both-backends
// The dashboard end to end: a real server on a real port, driven by headless Chromium.
// HANGAR_SCREENSHOTS=1 also writes docs/dashboard/*.png.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Page } from "playwright-core";
import { resolveConfig, type HangarConfig } from "../../host/config/index.ts";
import { deployDir } from "../../host/dev/deploy-dir.ts";
import { createLogger } from "../../host/log/logger.ts";
import { registryOps } from "../../host/registry/admin.ts";
import type { DeployResult } from "../../host/registry/index.ts";
import { startServer, type HangarServer } from "../../host/server/index.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { launchBrowser, type Browser } from "./browser.ts";
import { deadEvent, signupTables, writeExtras, writeFunctions } from "./fixtures.ts";
import { waitFor } from "../helpers/wait.ts";

const TOKEN = "dashboard-admin-token";
const SHOTS = process.env.HANGAR_SCREENSHOTS === "1" ? new URL("../../docs/dashboard/", import.meta.url).pathname : null;

let t: TestDatabase;
let dir: string;
let config: HangarConfig;
let server: HangarServer;
let browser: Browser;
let page: Page;
let base: string;


async function deploy(): Promise<void> {
  const ctx = { db: t.db, config, runtime: server.core.runtime, actor: "test" };
  const reports = await deployDir(dir, [], (args) => registryOps["functions.deploy"](ctx, args) as Promise<DeployResult>);
  for (const r of reports) assert.equal(r.error, undefined, r.error);
  await server.core.registry.refresh(true);
}

async function shot(name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

before(async () => {
  t = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "hangar-dash-"));
  await signupTables(t.db);
  await writeFunctions(dir, "v1");
  await writeExtras(dir);
  config = { ...resolveConfig("dev", { port: "0", "data-dir": join(dir, ".hangar") }, { HANGAR_ADMIN_TOKEN: TOKEN }), functionsDir: dir };
  server = await startServer({ config, logger: createLogger({ format: "json", level: "error" }), db: t.db });
  await deploy();
  await writeFunctions(dir, "v2");
  await deploy();
  base = `${server.url}/_hangar`;
  browser = await launchBrowser();
  page = await browser.context.newPage();
  if (SHOTS) {
    await mkdir(SHOTS, { recursive: true });
    // Some traffic, so the pictures show figures.
    for (let i = 0; i < 40; i++) {
      const path = ["hello?name=ada", "flaky", "chatty", "search?q=vector+index&k=3"][i % 4];
      await fetch(`${server.url}/functions/v1/${path}`).then((r) => r.arrayBuffer());
      if (i % 7 === 0) await fetch(`${server.url}/functions/v1/flaky?fail=1`).then((r) => r.arrayBuffer());
    }
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

test("a wrong token is refused and sets no cookie; the right one logs in", async () => {
  const res = await page.goto(`${base}/`);
  assert.equal(new URL(page.url()).pathname, "/_hangar/login", "an anonymous visit lands on the login form");
  assert.equal(res?.status(), 200);
  await page.getByLabel(/Admin token/).fill("not-the-token");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByText("That admin token is not valid.").waitFor();
  assert.deepEqual(await browser.context.cookies(), []);
  await page.getByLabel(/Admin token/).fill(TOKEN);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/functions`);
  const [cookie] = await browser.context.cookies();
  assert.equal(cookie.name, "hangar_session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/_hangar");
});

test("the functions page lists the shipped functions with their triggers", async () => {
  await page.goto(`${base}/functions`);
  for (const name of ["hello", "search", "on-signup", "nightly", "chatty"]) {
    await page.getByRole("rowheader", { name, exact: true }).waitFor();
  }
  const text = await page.locator("main").innerText();
  assert.match(text, /event public\.signups:insert/);
  assert.match(text, /schedule /);
  assert.match(text, /\/functions\/v1\/hello/);
  await shot("functions");
});

test("an invocation appears live, without a reload, and its page shows the console lines", async () => {
  await page.goto(`${base}/invocations`);
  await page.getByText("Following new invocations.").waitFor();
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  const res = await fetch(`${server.url}/functions/v1/chatty`);
  assert.equal(await res.text(), "chatty v2");
  // Rows the feed brought are marked "new": this one was not on the page when it loaded.
  const row = page.locator("tbody tr.new", { hasText: "chatty" }).first();
  await row.waitFor({ timeout: 20_000 });
  assert.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true, "the row came without a reload");
  await shot("invocations");
  await row.getByRole("link").first().click();
  await page.waitForURL(/\/_hangar\/invocations\/[0-9a-f-]{36}$/);
  const main = await page.locator("main").innerText();
  assert.match(main, /hello from chatty v2/);
  assert.match(main, /second line/);
  assert.match(main, new RegExp(res.headers.get("x-request-id")!));
  await shot("invocation");
});

test("a dead event is replayed from its page and then delivered", async () => {
  const id = await deadEvent(t.db, "dead@example.com");
  await page.goto(`${base}/events`);
  await page.getByRole("row", { name: /on-signup/ }).first().waitFor();
  await shot("events");
  await page.goto(`${base}/events/${id}`);
  assert.match(await page.locator("main").innerText(), /dead@example\.com/);
  await page.getByRole("button", { name: `Replay event #${id}` }).click();
  await page.getByText(`Event #${id} is pending again.`).waitFor();
  await waitFor("the replayed event to be delivered", async () => {
    const { rows } = await t.db.query<{ status: string }>("select status from hangar.events where id = $1::int8", [id]);
    return rows[0].status === "done";
  }, 30_000);
  const { rows } = await t.db.query("select 1 from public.welcome_messages where email = 'dead@example.com'");
  assert.equal(rows.length, 1);
});

test("all dead events of a function are replayed at once, after a confirm prompt", async () => {
  const ids = [await deadEvent(t.db, "one@example.com", 1001), await deadEvent(t.db, "two@example.com", 1002)];
  await page.goto(`${base}/events`);
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Replay 2 dead" }).click();
  await page.getByText("Replayed 2 dead events of on-signup.").waitFor();
  await waitFor("both to be delivered", async () => {
    const { rows } = await t.db.query<{ n: number }>("select count(*)::int as n from hangar.events where id = any($1::int8[]) and status = 'done'", [ids]);
    return rows[0].n === 2;
  }, 30_000);
});

test("a failed invocation shows its message and a stack pointing at the function's source", async () => {
  const res = await fetch(`${server.url}/functions/v1/flaky?fail=1`);
  assert.equal(res.status, 500);
  const requestId = res.headers.get("x-request-id")!;
  await page.goto(`${base}/invocations?function=flaky&status=failed`);
  const row = page.locator("tbody tr", { hasText: "flaky failed on purpose" }).first();
  await row.waitFor({ timeout: 20_000 });
  // The newest failure is ours once it is written; follow links until its request id shows.
  await waitFor("our invocation's page", async () => {
    await page.goto(`${base}/invocations?function=flaky&status=failed`);
    await page.locator("tbody tr a").first().click();
    return (await page.locator("main").innerText()).includes(requestId);
  }, 20_000);
  const main = await page.locator("main").innerText();
  assert.match(main, /flaky failed on purpose/);
  assert.match(main, /flaky\.ts:\d+/, "the stack is mapped to the TypeScript source");
  await shot("invocation-error");
});

test("the health page shows every instance of the fleet, from the database", async () => {
  const second = await startServer({ config: { ...config, nodeId: "node-second" }, logger: createLogger({ format: "json", level: "error" }), db: t.db });
  try {
    assert.equal((await fetch(`${second.url}/functions/v1/hello`)).status, 200);
    await waitFor("both instances on the health page of the first", async () => {
      await page.goto(`${base}/fleet`);
      const text = await page.locator("main").innerText();
      return text.includes("node-second") && text.includes(config.nodeId);
    }, 20_000);
  } finally {
    await second.close();
  }
});

test("a version is rolled back after a confirm step", async () => {
  await page.goto(`${base}/functions/chatty`);
  await shot("function");
  await page.getByRole("link", { name: "Roll back to v1" }).click();
  await page.waitForURL(/\/rollback\?to=1$/);
  assert.equal((await fetch(`${server.url}/functions/v1/chatty`).then((r) => r.text())), "chatty v2", "nothing changed before confirming");
  await page.getByRole("button", { name: "Roll back to v1" }).click();
  await page.getByText("Rolled back: v1 is active.").waitFor();
  // the page answered once this instance had switched: no waiting for the NOTIFY
  assert.equal(await fetch(`${server.url}/functions/v1/chatty`).then((r) => r.text()), "chatty v1");
  const { rows } = await t.db.query<{ action: string; actor: string }>("select action, actor from hangar.deployments where function_name = 'chatty' order by id desc limit 1");
  assert.deepEqual(rows[0], { action: "rollback", actor: "dashboard" });
});

test("a secret is set and unset, and its value is never shown", async () => {
  await page.goto(`${base}/secrets`);
  await page.getByLabel("Name", { exact: true }).fill("DASH_SECRET");
  await page.getByLabel("Value", { exact: true }).fill("s3cr3t-value-xyz");
  await page.getByLabel("Scope", { exact: true }).selectOption("chatty");
  await page.getByRole("button", { name: "Set secret" }).click();
  await page.getByText("Set DASH_SECRET for chatty.").waitFor();
  await page.getByRole("rowheader", { name: "DASH_SECRET" }).waitFor();
  assert.doesNotMatch(await page.content(), /s3cr3t-value-xyz/);
  await shot("secrets");
  const { rows } = await t.db.query("select 1 from hangar.secrets where scope = 'chatty' and name = 'DASH_SECRET'");
  assert.equal(rows.length, 1);
  await page.getByRole("button", { name: "Unset DASH_SECRET of chatty" }).click();
  await page.getByText("Unset DASH_SECRET of chatty.").waitFor();
  assert.equal(await page.getByRole("rowheader", { name: "DASH_SECRET" }).count(), 0);
  const gone = await t.db.query("select 1 from hangar.secrets where name = 'DASH_SECRET'");
  assert.equal(gone.rows.length, 0);
});

test("actions without the session cookie, with a forged origin or without the CSRF token are refused", async () => {
  const [cookie] = await browser.context.cookies();
  await page.goto(`${base}/secrets`);
  const csrf = await page.locator('meta[name="csrf-token"]').getAttribute("content");
  assert.ok(csrf);
  const post = (headers: Record<string, string>, body: Record<string, string>) =>
    fetch(`${base}/secrets/set`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(body) });
  const secret = { name: "FORGED", value: "x" };
  const origin = server.url;
  const noCookie = await post({ origin }, { ...secret, _csrf: csrf });
  assert.equal(noCookie.status, 401);
  const forged = await post({ origin: "http://evil.example", cookie: `${cookie.name}=${cookie.value}` }, { ...secret, _csrf: csrf });
  assert.equal(forged.status, 403);
  assert.match(await forged.text(), /Origin http:\/\/evil\.example/);
  const crossSite = await post({ "sec-fetch-site": "cross-site", cookie: `${cookie.name}=${cookie.value}` }, { ...secret, _csrf: csrf });
  assert.equal(crossSite.status, 403);
  const noToken = await post({ origin, cookie: `${cookie.name}=${cookie.value}` }, secret);
  assert.equal(noToken.status, 403);
  const tampered = await post({ origin, cookie: `${cookie.name}=${cookie.value.slice(0, -2)}xx` }, { ...secret, _csrf: csrf });
  assert.equal(tampered.status, 401);
  const { rows } = await t.db.query("select 1 from hangar.secrets where name = 'FORGED'");
  assert.equal(rows.length, 0, "no refused request changed anything");
  // The same request from the page's origin with cookie and token goes through: the refusals above are the guard, not a broken form.
  const ok = await post({ origin, cookie: `${cookie.name}=${cookie.value}` }, { ...secret, _csrf: csrf });
  assert.equal(ok.status, 303);
  assert.equal((await t.db.query("select 1 from hangar.secrets where name = 'FORGED'")).rows.length, 1);
});

test("charts, cron and health render from the ledgers", async () => {
  await page.goto(`${base}/charts`);
  await page.locator("figure", { hasText: "chatty" }).locator("svg").first().waitFor();
  await shot("charts");
  // tick runs every 5 s: its history shows up as the timeline.
  await waitFor("a run of tick", async () => (await t.db.query("select 1 from hangar.cron_runs where function_name = 'tick' and status = 'succeeded'")).rows.length > 0, 30_000);
  await page.goto(`${base}/cron`);
  await page.getByRole("rowheader", { name: "nightly" }).waitFor();
  assert.match(await page.locator("main").innerText(), /Next occurrence/);
  assert.ok((await page.getByRole("listitem", { name: /succeeded/ }).count()) > 0, "the timeline shows tick's successful runs");
  await shot("cron");
  await page.goto(`${base}/fleet`);
  const health = await page.locator("main").innerText();
  assert.match(health, new RegExp(config.nodeId));
  assert.match(health, /Round trip/);
  await shot("health");
});

test("on a phone the pages fit the screen and the nav is reachable by keyboard", async () => {
  const phone = await browser.context.newPage();
  try {
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const p of ["functions", "invocations", "events", "secrets", "fleet"]) {
      await phone.goto(`${base}/${p}`);
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${p} is ${overflow}px wider than a phone`);
    }
    await phone.goto(`${base}/functions`);
    if (SHOTS) await phone.screenshot({ path: join(SHOTS, "phone.png") });
    await phone.keyboard.press("Tab");
    assert.equal(await phone.evaluate(() => document.activeElement?.textContent), "Skip to content");
  } finally {
    await phone.close();
  }
});
