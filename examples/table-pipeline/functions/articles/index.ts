// A table-change pipeline: every insert or update of public.articles is
// embedded and upserted into the "articles" vector collection; a delete
// removes it. GET /functions/v1/articles?q=... searches the collection.
//
// Events are durable (stored with the change, retried with backoff, then
// dead-lettered) and ordered per row, so an article's update is never
// embedded before its insert, and a delete lands after both.
import { vector, type TableEvent } from "hangar";
import { embed } from "./embed";

export const config = {
  events: ["public.articles:insert,update,delete"],
};

const COLLECTION = "articles";

interface Article {
  id: string;
  title: string;
  body: string;
  lang: string;
}

export default {
  async event(e: TableEvent<Article & Record<string, unknown>>) {
    if (e.op === "delete") {
      await vector.remove(COLLECTION, [String(e.old!.id)]);
      return;
    }
    const a = e.new!;
    // An update that left title and body alone needs no new embedding.
    if (e.op === "update" && e.old && e.old.title === a.title && e.old.body === a.body && e.old.lang === a.lang) return;
    await vector.upsert(COLLECTION, [
      { id: String(a.id), embedding: embed(`${a.title}\n${a.body}`), content: a.title, metadata: { lang: a.lang } },
    ]);
  },

  async fetch(request: Request) {
    const url = new URL(request.url);
    const q = url.searchParams.get("q");
    if (!q) return Response.json({ error: "pass ?q=your question" }, { status: 400 });
    const lang = url.searchParams.get("lang");
    const hits = await vector.search(COLLECTION, embed(q), { k: 5, filter: lang ? { lang } : undefined });
    return Response.json(hits.map((h) => ({ id: h.id, title: h.content, score: Number(h.score.toFixed(4)) })));
  },
};
