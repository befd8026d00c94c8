// @both-backends
// The embedded database runs on a thread of its own: a guest's long statement
// holds up neither HTTP nor /_hangar/health nor a function without SQL, and
// the guest's wall limit still ends its invocation while PGlite is busy.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { HangarServer } from "../../host/server/index.ts";
import { backend, createTestDatabase } from "../helpers/db.ts";
import { devConfig, serveDeployed } from "../helpers/server.ts";

const SLEEP_S = 4;

test(`${backend}: pg_sleep(${SLEEP_S}) in a function: health and another function answer meanwhile; the wall limit ends it while PGlite still sleeps`, { skip: backend !== "pglite" && "embedded database only", timeout: 90_000 }, async (t) => {
  const tdb = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "hangar-pglite-thread-"));
  await writeFile(join(dir, "sleepy.ts"), `import { sql } from "hangar";
export const config = { limits: { wallMs: 1500 } };
export default { async fetch() { await sql\`select pg_sleep(${SLEEP_S})\`; return new Response("woke"); } };`);
  await writeFile(join(dir, "hello.ts"), `export default { fetch: () => new Response("hi") };`);
  let server: HangarServer | undefined;
  try {
    server = await serveDeployed(devConfig(dir), tdb.db);
    const url = server.url;
    assert.equal(await (await fetch(`${url}/functions/v1/hello`)).text(), "hi");
    assert.equal((await fetch(`${url}/_hangar/health`)).status, 200);

    const probes: { what: string; status: number; ms: number }[] = [];
    const probe = async (what: string, path: string) => {
      const started = performance.now();
      const res = await fetch(`${url}${path}`);
      await res.arrayBuffer();
      probes.push({ what, status: res.status, ms: performance.now() - started });
    };
    let sleeping = true;
    const slow = fetch(`${url}/functions/v1/sleepy`).then(async (res) => {
      // Answered by the wall limit, not by the statement: PGlite has not finished it.
      const stillBusy = tdb.db.busyMs?.() ?? null;
      return { status: res.status, body: await res.text(), stillBusy };
    });
    const prober = (async () => {
      while (sleeping) {
        await Promise.all([probe("health", "/_hangar/health"), probe("hello", "/functions/v1/hello"), new Promise((r) => setTimeout(r, 100))]);
      }
    })();
    const answer = await slow;
    // Keep probing until the statement is over and the session free again.
    while (tdb.db.busyMs?.() !== null) await new Promise((r) => setTimeout(r, 20));
    sleeping = false;
    await prober;

    assert.equal(answer.status, 504, answer.body);
    assert.match(answer.body, /WALL_TIME_LIMIT/);
    assert.notEqual(answer.stillBusy, null, "the wall-limit answer came while the statement was still running");
    assert.ok(probes.length >= 10, `probed while PGlite slept (${probes.length} probes)`);
    assert.deepEqual(probes.filter((p) => p.status !== 200), [], "every probe answered 200");
    const quantiles = (list: number[]) => {
      const ms = [...list].sort((a, b) => a - b);
      return (f: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(f * ms.length))]!);
    };
    for (const what of ["health", "hello"]) {
      const q = quantiles(probes.filter((p) => p.what === what).map((p) => p.ms));
      t.diagnostic(`${what}: probes during pg_sleep(${SLEEP_S}): p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`);
    }
    const q = quantiles(probes.map((p) => p.ms));
    assert.ok(q(0.5) < (SLEEP_S * 1000) / 4, `median probe ${q(0.5)} ms, well below the ${SLEEP_S} s sleep`);
    // The session is usable again afterwards.
    assert.deepEqual((await tdb.db.query("select 1 as one")).rows, [{ one: 1 }]);
  } finally {
    await server?.close();
    await tdb.close();
    await rm(dir, { recursive: true, force: true });
  }
});
