// How the neutral result of invoke becomes HTTP: a full memory budget is 503
// with retry-after, an unexpected host error tells the client nothing of the
// server's internals in production (the log gets them), dev keeps details.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createApp } from "../../host/http/app.ts";
import { functionRoutes } from "../../host/http/functions.ts";
import { INTERNAL_MESSAGE } from "../../host/http/result.ts";
import { createInvoker } from "../../host/invoke/invoker.ts";
import { createLogger } from "../../host/log/logger.ts";
import type { ActiveFunction } from "../../host/registry/index.ts";
import { MemoryBudgetError } from "../../runtime/index.ts";
import type { Db } from "../../host/db/index.ts";

const fn = { name: "f", versionId: "v1", version: 1, hash: "h", config: { auth: "public" } } as unknown as ActiveFunction;
const LIMITS = { cpuMs: 1000, wallMs: 5000, memoryMb: 64, subrequests: 5 };

function appWith(load: () => Promise<never>, expose: boolean) {
  const logged: string[] = [];
  const logger = createLogger({ format: "json", level: "error", write: (l) => void logged.push(l) });
  const invoker = createInvoker({
    functions: { get: () => fn, bundle: async () => ({ code: "", map: null }) },
    load,
    bindings: async () => ({ functions: {}, close: async () => {} }),
    env: async () => ({}),
    defaultLimits: LIMITS,
    nodeId: "n",
    logger,
  });
  const app = createApp({
    db: {} as Db, version: "t", nodeId: "n", expose,
    onUnexpected: (err, requestId) => logger.error("request failed", { requestId, err }),
    mount: (a) => {
      a.get("/boom", () => { throw new Error("secret internals: pool at 10.0.0.7"); });
      a.route("/functions/v1", functionRoutes({ invoker, lookup: () => fn, authenticate: async () => ({ ok: true, claims: null }), maxBodyBytes: 1024, expose }));
    },
  });
  return { app, logged };
}

test("a full sandbox memory budget answers 503 with retry-after", async () => {
  const { app } = appWith(async () => { throw new MemoryBudgetError(64); }, false);
  const res = await app.request("/functions/v1/f");
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "1");
  const body = await res.json();
  assert.equal(body.error.code, "MEMORY_BUDGET");
  assert.equal(body.error.requestId, res.headers.get("x-request-id"));
});

test("an unexpected host error is generic in production, detailed in dev; the log has it with the request id", async () => {
  for (const expose of [false, true]) {
    const { app, logged } = appWith(async () => { throw new Error("secret internals: bundle store at /var/lib/x"); }, expose);
    for (const path of ["/functions/v1/f", "/boom"]) {
      const res = await app.request(path);
      assert.equal(res.status, 500, path);
      const body = await res.json();
      const id = res.headers.get("x-request-id")!;
      assert.equal(body.error.code, "INTERNAL", path);
      assert.equal(body.error.requestId, id, path);
      if (expose) assert.match(body.error.message, /secret internals/, path);
      else {
        assert.equal(body.error.message, INTERNAL_MESSAGE, path);
        assert.ok(logged.some((l) => l.includes(id) && l.includes("secret internals")), `${path}: logged with its request id:\n${logged.join("\n")}`);
      }
    }
  }
});
