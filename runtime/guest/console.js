import { native } from "./native.js";
import { format } from "./format.js";

const counts = new Map();
const timers = new Map();
const out = (level) => (...args) => native.console(level, format(...args));

export const console = {
  log: out("log"), info: out("info"), warn: out("warn"), error: out("error"), debug: out("debug"),
  trace: out("debug"), dir: (v) => native.console("log", format(v)),
  assert(cond, ...args) { if (!cond) native.console("error", "Assertion failed" + (args.length ? ": " + format(...args) : "")); },
  count(label = "default") { const n = (counts.get(label) || 0) + 1; counts.set(label, n); native.console("log", `${label}: ${n}`); },
  countReset(label = "default") { counts.delete(label); },
  time(label = "default") { timers.set(label, Date.now()); },
  timeEnd(label = "default") { const t = timers.get(label); if (t !== undefined) { timers.delete(label); native.console("log", `${label}: ${Date.now() - t}ms`); } },
  timeLog(label = "default", ...args) { const t = timers.get(label); if (t !== undefined) native.console("log", `${label}: ${Date.now() - t}ms` + (args.length ? " " + format(...args) : "")); },
  group() {}, groupEnd() {}, table: out("log"),
};
