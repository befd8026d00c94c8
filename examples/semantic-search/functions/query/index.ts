// GET /functions/v1/query?q=...&k=5[&collection=documents][&<metadata key>=<value>...]
import { vector } from "hangar";
import { embedAll, type Env } from "../../lib/embeddings.ts";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const q = url.searchParams.get("q")?.trim();
    if (!q) return Response.json({ error: "pass a query: ?q=..." }, { status: 400 });
    const k = Math.min(100, Math.max(1, Number(url.searchParams.get("k")) || 5));
    // The shared namespace the ingest function writes to.
    const collection = `shared:${url.searchParams.get("collection") ?? "documents"}`;
    const filter: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (!["q", "k", "collection"].includes(key)) filter[key] = value;
    const [embedding] = await embedAll([q], env);
    const hits = await vector.search(collection, embedding, { k, filter: Object.keys(filter).length ? filter : undefined });
    return Response.json({ query: q, results: hits });
  },
};
