// Semantic search over a bundled demo corpus with a local embedder, so it
// works offline: GET /functions/v1/search?q=...&k=5[&topic=postgres]
import { vector } from "hangar";
import { CORPUS } from "./corpus.ts";
import { embed } from "./embed.ts";

const COLLECTION = "demo-corpus";
let seeded = false;

/** Upsert the corpus once per instance when the collection is empty (upsert is idempotent, so racing instances are harmless). */
async function seed(): Promise<void> {
  if (seeded) return;
  const probe = await vector.search(COLLECTION, embed("database"), { k: 1 });
  if (!probe.length) {
    await vector.upsert(
      COLLECTION,
      CORPUS.map((d) => ({ id: d.id, embedding: embed(`${d.title} ${d.text}`), content: d.text, metadata: { title: d.title, topic: d.topic } })),
    );
  }
  seeded = true;
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const q = url.searchParams.get("q")?.trim();
    if (!q) return Response.json({ error: "pass a query: ?q=..." }, { status: 400 });
    const k = Math.min(50, Math.max(1, Number(url.searchParams.get("k")) || 5));
    const topic = url.searchParams.get("topic");
    await seed();
    const hits = await vector.search(COLLECTION, embed(q), { k, filter: topic ? { topic } : undefined });
    return Response.json({
      query: q,
      results: hits.map((h) => ({ id: h.id, score: Math.round(h.score * 1000) / 1000, title: h.metadata?.title, topic: h.metadata?.topic, text: h.content })),
    });
  },
};
