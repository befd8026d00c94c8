// The direct baseline: Hono on Node querying Postgres through `pg`, with the
// same queries and JSON responses as the guest functions of the sql and vector benchmarks.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import pg from "pg";
import { DIM, QUERY_SEED, benchVector } from "../lib/rand.ts";

// EF_SEARCH: the vector benchmark's hnsw.ef_search, set for every session (the guest's search asks for the same).
const ef = Number(process.env.EF_SEARCH) || 0;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10, ...(ef ? { options: `-c hnsw.ef_search=${ef}` } : {}) });
const app = new Hono();
let next = 0;

app.get("/one", async (c) => c.json((await pool.query("select 1 as one")).rows));
app.get("/hello", (c) => c.json([{ one: 1 }]));
app.get("/rows", async (c) => c.json((await pool.query("select id, name, value from bench_rows order by id limit $1", [100])).rows));
app.get("/vsearch", async (c) => {
  const q = c.req.query("q");
  const i = q === undefined ? next++ % 1000 : Number(q);
  const v = JSON.stringify(benchVector(QUERY_SEED + i, DIM));
  const { rows } = await pool.query(
    "select id, 1 - (embedding <=> $1::vector) as score from bench_vec order by embedding <=> $1::vector limit 10",
    [v],
  );
  return c.json(rows);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" });
