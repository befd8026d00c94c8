import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { HANGAR_BIN } from "../helpers/cli.ts";

/**
 * Process tests of table events need pieces other engineers own: the
 * dispatcher started by `hangar start`, the deploy hook installing triggers,
 * the admin ops, `hangar events` in the CLI, and the sql (and vector)
 * bindings the fixture functions call. Returns why a test must wait
 * for them, or false when they are there.
 */
export function eventsWiringMissing(opts: { vector?: boolean } = {}): string | false {
  const read = (p: string) => {
    try {
      return readFileSync(new URL(p, import.meta.url), "utf8");
    } catch {
      return "";
    }
  };
  const missing: string[] = [];
  const server = read("../../host/server/index.ts") + read("../../host/server/core.ts");
  if (!server.includes("startEventDispatcher")) missing.push("host/server does not start the event dispatcher (startEventDispatcher)");
  const hooked = ["../../host/server/index.ts", "../../host/server/core.ts", "../../host/registry/admin.ts", "../../host/admin/ops.ts", "../../host/cli/main.ts"]
    .map(read)
    .some((s) => s.includes("syncTableTriggers"));
  if (!hooked) missing.push("deploy does not install table triggers (setActivateHook → syncTableTriggers)");
  const bindings = read("../../host/bindings/index.ts");
  if (!bindings.includes("createSqlBindings")) missing.push("invocations get no sql binding (host/bindings/index.ts)");
  if (opts.vector && !bindings.includes("createVectorBindings")) missing.push("invocations get no vector binding (host/bindings/index.ts)");
  if (!read("../../host/admin/ops.ts").includes("eventOps")) missing.push("ADMIN_OPS lacks eventOps");
  const help = spawnSync(process.execPath, [HANGAR_BIN, "--help"], { encoding: "utf8" }).stdout;
  if (!/hangar events/.test(help)) missing.push("the CLI has no `hangar events` command (eventsCommand)");
  return missing.length ? `awaits wiring: ${missing.join("; ")}` : false;
}
