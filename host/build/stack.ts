import { SourceMapConsumer } from "source-map-js";
import { BUNDLE_FILENAME } from "./bundle.ts";

const CACHE_SIZE = 16;
// Parsing a map costs milliseconds per megabyte; failed invocations of one version repeat it.
const consumers = new Map<string, SourceMapConsumer>();

function consumerFor(map: string): SourceMapConsumer {
  const hit = consumers.get(map);
  if (hit) {
    consumers.delete(map);
    consumers.set(map, hit);
    return hit;
  }
  const c = new SourceMapConsumer(JSON.parse(map));
  consumers.set(map, c);
  if (consumers.size > CACHE_SIZE) consumers.delete(consumers.keys().next().value!);
  return c;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A guest stack is kept to this many lines and characters before any work is done on it. */
export const MAX_STACK_FRAMES = 64;
export const MAX_STACK_CHARS = 16_384;

/**
 * The first MAX_STACK_FRAMES lines and MAX_STACK_CHARS characters of a stack,
 * with a marker saying what was cut: a guest can craft a stack of millions of
 * frames, and mapping or storing it must cost the host no more than this.
 */
export function capStack(stack: string): string {
  const head = stack.length > MAX_STACK_CHARS ? stack.slice(0, MAX_STACK_CHARS) : stack;
  let end = -1;
  let lines = 0;
  for (let i = head.indexOf("\n"); i !== -1; i = head.indexOf("\n", i + 1)) {
    if (++lines === MAX_STACK_FRAMES) {
      end = i;
      break;
    }
  }
  if (end === -1 && head.length === stack.length) return stack;
  const kept = end === -1 ? head.slice(0, Math.max(0, head.lastIndexOf("\n"))) || head : head.slice(0, end);
  return `${kept}\n    ... (stack cut at ${MAX_STACK_FRAMES} frames / ${MAX_STACK_CHARS} characters; it had ${stack.length} characters)`;
}

/**
 * Rewrites `bundle.js:line[:column]` positions in a guest stack to the original source
 * `file:line:column` (columns 1-based, as QuickJS and V8 print them). Unmapped positions stay.
 */
export function mapStack(rawStack: string, map: string, filename: string = BUNDLE_FILENAME): string {
  const stack = capStack(String(rawStack));
  let consumer: SourceMapConsumer;
  try {
    consumer = consumerFor(map);
  } catch {
    return stack; // a broken map must not hide the original error
  }
  const re = new RegExp(`(?<![\\w./-])${escapeRe(filename)}:(\\d+)(?::(\\d+))?`, "g");
  const unmapped = "\u0000unmapped";
  const mapped = stack.replace(re, (whole, line: string, col: string | undefined) => {
    const pos = consumer.originalPositionFor({
      line: Number(line),
      column: col === undefined ? 0 : Math.max(0, Number(col) - 1),
      // Without a column, take the first mapping on the line rather than nothing.
      bias: col === undefined ? SourceMapConsumer.LEAST_UPPER_BOUND : SourceMapConsumer.GREATEST_LOWER_BOUND,
    });
    if (pos.source == null || pos.line == null) return `${whole}${unmapped}`;
    return col === undefined ? `${pos.source}:${pos.line}` : `${pos.source}:${pos.line}:${(pos.column ?? 0) + 1}`;
  });
  // Frames of the bundler's own helpers (async functions are lowered to generators, see bundle.ts: `__async`
  // and the anonymous step functions) have no source: drop them and the engine frames they drive; every other
  // line stays, unmapped positions included.
  const helper = (l: string) =>
    (l.includes(unmapped) && (/^\s+at __\w+ \(/.test(l) || /^\s+at [^\s(]+\u0000unmapped$/.test(l))) ||
    /^\s+at (Generator\.next|new Promise) \(<anonymous>\)$/.test(l);
  return mapped
    .split("\n")
    .filter((l) => !helper(l))
    .join("\n")
    .replaceAll(unmapped, "");
}

/** Drops cached parsed maps (tests, or a host freeing memory). */
export function clearStackMapCache(): void {
  consumers.clear();
}
