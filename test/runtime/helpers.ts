// Shared helpers for runtime tests: limits, inputs, bundles written by hand.
import type { InvocationInput, Limits, HostFunctions, ConsoleLevel } from "../../runtime/types.ts";

export const LIMITS: Limits = { cpuMs: 200, wallMs: 500, memoryMb: 64, subrequests: 5 };
/** For tests whose subject is not a limit: generous, so a loaded machine cannot trip them. */
export const ROOMY: Limits = { cpuMs: 10_000, wallMs: 30_000, memoryMb: 64, subrequests: 5 };

export function input(overrides: Partial<InvocationInput> & { logs?: [ConsoleLevel, string][] } = {}): InvocationInput {
  const logs = overrides.logs;
  return {
    requestId: "req-1",
    env: { GREETING: "hello" },
    auth: null,
    limits: LIMITS,
    host: {} as HostFunctions,
    onConsole: logs ? (level, message) => logs.push([level, message]) : undefined,
    ...overrides,
  };
}

/** A bundle shaped like esbuild's iife output: exports land on globalThis.__hangar_exports. */
export function moduleBundle(body: string, exportsExpr = "{ default: handler }"): string {
  return `"use strict";\n(() => {\n${body}\nglobalThis.__hangar_exports = ${exportsExpr};\n})();\n`;
}

/** Bundle whose default export is `{ fetch: <fn> }` with the given function source. */
export function fetchBundle(fn: string, prelude = ""): string {
  return moduleBundle(`${prelude}\nconst handler = { fetch: ${fn} };`);
}

export const req = (path = "/", init?: RequestInit) => new Request(`http://localhost${path}`, init);
