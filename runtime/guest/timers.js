// setTimeout & co: the host owns the clock and cancels an invocation's timers when it ends.
import { native } from "./native.js";

const callbacks = new Map();
let nextId = 1;

function schedule(fn, ms, args, repeat) {
  if (typeof fn !== "function") throw new TypeError("The \"callback\" argument must be of type function");
  const id = nextId++;
  const delay = Math.max(0, Number(ms) || 0);
  callbacks.set(id, { fn, args, repeat: repeat ? delay : -1 });
  native.setTimer(id, delay);
  return id;
}

export function setTimeout(fn, ms, ...args) { return schedule(fn, ms, args, false); }
export function setInterval(fn, ms, ...args) { return schedule(fn, ms, args, true); }
export function clearTimeout(id) {
  id = Number(id);
  if (callbacks.delete(id)) native.clearTimer(id);
}
export const clearInterval = clearTimeout;
export function queueMicrotask(fn) { Promise.resolve().then(fn); }

/** Called by the host when timer `id` is due. */
export function fireTimer(id) {
  const t = callbacks.get(id);
  if (!t) return;
  if (t.repeat >= 0) native.setTimer(id, t.repeat);
  else callbacks.delete(id);
  t.fn(...t.args);
}

/** The host dropped these timers (their invocation ended). */
export function dropTimers(ids) { for (const id of ids) callbacks.delete(id); }
