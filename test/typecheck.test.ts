// The codebase is strict TypeScript, and so are the shipped functions (against the `hangar` module's types);
// the guest's JavaScript (runtime/guest) is type-checked through its own tsconfig (checkJs).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));

for (const project of [".", "functions", "runtime/guest"]) {
  test(`tsc -p ${project} reports no errors`, { timeout: 180_000 }, () => {
    const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", project], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
}
