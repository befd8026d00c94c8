// POST /functions/v1/ingest  { "documents": [{ "id", "text", "metadata"? }], "collection"? }
import { vector } from "hangar";
import { embedAll, type Env } from "../../lib/embeddings.ts";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== "POST") return Response.json({ error: "POST documents as JSON" }, { status: 405 });
    const body = (await request.json().catch(() => null)) as { collection?: string; documents?: { id: string; text: string; metadata?: Record<string, unknown> }[] } | null;
    const docs = body?.documents;
    if (!Array.isArray(docs) || !docs.length || !docs.every((d) => typeof d?.id === "string" && typeof d?.text === "string")) {
      return Response.json({ error: "documents: [{ id, text, metadata? }] required" }, { status: 400 });
    }
    const embeddings = await embedAll(docs.map((d) => d.text), env);
    const { count } = await vector.upsert(
      // "shared:": the query function reads what this one writes (collections are per function otherwise).
      `shared:${body!.collection ?? "documents"}`,
      docs.map((d, i) => ({ id: d.id, embedding: embeddings[i], content: d.text, metadata: d.metadata ?? {} })),
    );
    return Response.json({ ingested: count });
  },
};
