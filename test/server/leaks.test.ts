// @both-backends
// A server that has served, run cron and handled events leaves nothing behind
// when closed: no timers, sockets or pool clients keep the process alive.
import assert from "node:assert/strict";
import { createHook } from "node:async_hooks";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { HangarServer } from "../../host/server/index.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { devConfig, serveDeployed } from "../helpers/server.ts";

const resources = () => process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap");

/** Timers and sockets created while tracking and not yet destroyed, unref'd ones included. */
function trackHandles() {
  const live = new Map<number, string>();
  let recording = true;
  const hook = createHook({
    init(id, type) {
      if (!recording || (type !== "Timeout" && type !== "TCPWRAP" && type !== "Immediate" && type !== "WORKER")) return;
      // esbuild's own service thread (buildSync) lives as long as the process: not the server's
      if (type === "WORKER" && new Error().stack?.includes("esbuild")) return;
      live.set(id, process.env.LEAK_STACKS ? `${type} ${new Error().stack?.split("\n").slice(2, 9).join(" <- ")}` : type);
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  // After `pause`, only destructions are recorded: the test's own waits are not the server's.
  return { live: () => [...live.values()], pause: () => (recording = false), stop: () => hook.disable() };
}

test("closing a busy server leaves no timers, sockets or clients behind", { timeout: 120_000 }, async () => {
  const t = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "hangar-leaks-"));
  await t.db.query("create table leak_items (id int primary key)");
  await writeFile(join(dir, "web.ts"), `import { sql } from "hangar";
export default { async fetch() { const [r] = await sql\`select count(*)::int as n from leak_items\`; return Response.json(r); } };`);
  await writeFile(join(dir, "tick.ts"), `export const config = { schedule: "* * * * * *", catchUp: "none" };
export default { async scheduled() { console.log("tick"); } };`);
  await writeFile(join(dir, "on-item.ts"), `export const config = { events: ["public.leak_items:insert"] };
export default { async event(e: { new: { id: number } }) { console.log("item", e.new.id); } };`);
  const baseline = resources().length;
  const handles = trackHandles();
  let server: HangarServer | undefined;
  try {
    server = await serveDeployed(devConfig(dir), t.db);
    const url = server.url;
    await t.db.query("insert into leak_items select generate_series(1, 20)");
    for (let i = 0; i < 20; i++) assert.equal((await fetch(`${url}/functions/v1/web`)).status, 200);
    // let cron fire and the events drain
    for (let i = 0; i < 100; i++) {
      const { rows } = await t.db.query<{ n: number }>("select count(*)::int as n from hangar.events where status <> 'done'");
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1_200));
  } finally {
    await server?.close();
    await server?.close(); // safe twice
    handles.pause();
  }
  const pool = t.db.poolStats();
  assert.equal(pool.total - pool.idle, 0, "no pool client is still checked out");
  await t.close();
  await rm(dir, { recursive: true, force: true });
  // Give closed sockets a tick to unregister.
  await new Promise((r) => setTimeout(r, 50));
  const leftHandles = handles.live();
  handles.stop();
  assert.deepEqual(leftHandles, [], "every timer, socket and sandbox thread the server made is gone");
  const left = resources();
  assert.ok(left.length <= baseline, `resources left after close: ${JSON.stringify(left)} (baseline ${baseline})`);
});
