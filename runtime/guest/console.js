import { native } from "./native.js";
import { format } from "./format.js";

const counts = new Map();
const timers = new Map();
/** Lines past this are cut here, so the host never copies them whole (the host refuses longer ones). */
const MAX_LINE = 1024 * 1024;
const emit = (level, line) => native.console(level, line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}... [truncated: ${line.length} characters]` : line);
const out = (level) => (...args) => emit(level, format(...args));

export const console = {
  log: out("log"), info: out("info"), warn: out("warn"), error: out("error"), debug: out("debug"),
  trace: out("debug"), dir: (v) => emit("log", format(v)),
  assert(cond, ...args) { if (!cond) emit("error", "Assertion failed" + (args.length ? ": " + format(...args) : "")); },
  count(label = "default") { const n = (counts.get(label) || 0) + 1; counts.set(label, n); native.console("log", `${label}: ${n}`); },
  countReset(label = "default") { counts.delete(label); },
  time(label = "default") { timers.set(label, Date.now()); },
  timeEnd(label = "default") { const t = timers.get(label); if (t !== undefined) { timers.delete(label); native.console("log", `${label}: ${Date.now() - t}ms`); } },
  timeLog(label = "default", ...args) { const t = timers.get(label); if (t !== undefined) emit("log", `${label}: ${Date.now() - t}ms` + (args.length ? " " + format(...args) : "")); },
  group() {}, groupEnd() {}, table: out("log"),
};
