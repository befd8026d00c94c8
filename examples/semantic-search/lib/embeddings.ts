// The pluggable embedding provider: an OpenAI-compatible endpoint when
// EMBEDDINGS_URL (and EMBEDDINGS_API_KEY) are set as secrets, else the
// deterministic local embedder. A collection must keep one provider: its
// dimension is fixed by the first upsert.
import { embed as localEmbed } from "./local-embedder.ts";

export interface Env {
  EMBEDDINGS_URL?: string;
  EMBEDDINGS_API_KEY?: string;
  EMBEDDINGS_MODEL?: string;
}

/** Embed several texts at once. */
export async function embedAll(texts: string[], env: Env): Promise<number[][]> {
  if (!env.EMBEDDINGS_URL) return texts.map(localEmbed);
  const res = await fetch(env.EMBEDDINGS_URL, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(env.EMBEDDINGS_API_KEY ? { authorization: `Bearer ${env.EMBEDDINGS_API_KEY}` } : {}),
    },
    body: JSON.stringify({ model: env.EMBEDDINGS_MODEL ?? "text-embedding-3-small", input: texts }),
  });
  if (!res.ok) throw new Error(`embeddings endpoint answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { data: { index: number; embedding: number[] }[] };
  return body.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
}
