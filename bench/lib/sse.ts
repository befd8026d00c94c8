// A streamed SSE response, measured the same way on every system: time to
// first byte (one event) and events per second (one long stream, then
// several at once). The handler produces each event when the stream is
// pulled, so the pace is the server's, not a timer's.
import { median, percentile } from "./stats.ts";

/** `handle(request)`: `n` SSE events (`?n=`), each made on pull. */
export const SSE_HANDLER = `async function handle(request) {
  const n = Number(new URL(request.url).searchParams.get("n") ?? "1000");
  const enc = new TextEncoder();
  let i = 0;
  return new Response(new ReadableStream({
    pull(c) {
      if (i < n) c.enqueue(enc.encode("data: " + JSON.stringify({ i: i++, token: "hello" }) + "\\n\\n"));
      else c.close();
    },
  }), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}`;

export interface SseResult {
  /** ms from the request to the first event's bytes, median and p90 of sequential one-event streams. */
  ttfbP50: number;
  ttfbP90: number;
  /** Events per second of one long stream, from its first byte to its end. */
  eventsPerSecond: number;
  /** Events per second over `CONCURRENT` streams read at once. */
  concurrentEventsPerSecond: number;
}

const TTFB_REQUESTS = 40;
const LONG = 5000;
const CONCURRENT = 8;
const EACH = 2000;

/** Read one stream of `n` events; resolves with the times of its first byte and its end. Throws when an event is missing. */
async function stream(url: string, n: number): Promise<{ start: number; first: number; end: number }> {
  const start = performance.now();
  const res = await fetch(`${url}${url.includes("?") ? "&" : "?"}n=${n}`);
  if (res.status !== 200 || !res.body) throw new Error(`${url}: status ${res.status}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let first = 0;
  let text = "";
  let events = 0;
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    if (!first) first = performance.now();
    text += dec.decode(r.value, { stream: true });
    // count whole events as they arrive, keep the unfinished tail
    const parts = text.split("\n\n");
    events += parts.length - 1;
    text = parts[parts.length - 1];
  }
  if (events !== n) throw new Error(`${url}: ${events} events of ${n}`);
  return { start, first, end: performance.now() };
}

export async function measureSse(url: string): Promise<SseResult> {
  await stream(url, 100); // warm-up
  const ttfb: number[] = [];
  for (let i = 0; i < TTFB_REQUESTS; i++) {
    const s = await stream(url, 1);
    ttfb.push(s.first - s.start);
  }
  const long = await stream(url, LONG);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENT }, () => stream(url, EACH)));
  const concurrentMs = performance.now() - t0;
  return {
    ttfbP50: median(ttfb),
    ttfbP90: percentile(ttfb, 90),
    eventsPerSecond: LONG / ((long.end - long.first) / 1000),
    concurrentEventsPerSecond: (CONCURRENT * EACH) / (concurrentMs / 1000),
  };
}

export const SSE_SHAPE = { long: LONG, concurrent: CONCURRENT, each: EACH, ttfbRequests: TTFB_REQUESTS };
