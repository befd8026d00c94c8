// The thread that owns the embedded database. A statement runs here to its
// end (PGlite cannot interrupt one), so the main thread's event loop never
// waits on it. Requests are handled strictly one after another.
import { parentPort, workerData } from "node:worker_threads";
import type { PGlite } from "@electric-sql/pglite";
import type { FromPglite, PgliteThreadData, ToPglite } from "./pglite-protocol.ts";
import { concatBytes } from "../../runtime/concat-bytes.ts";

const port = parentPort!;
const data = workerData as PgliteThreadData;
const TERMINATE = 0x58; // 'X': PGlite would end its one backend for good
const ROLLBACK = query("rollback");

let lite: PGlite | null = null;
const started = new Set<number>();
let queue: Promise<void> = Promise.resolve();

function send(m: FromPglite, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** A simple-protocol Query message. */
function query(text: string): Uint8Array {
  const body = Buffer.from(text + "\0");
  const out = Buffer.alloc(5 + body.length);
  out[0] = 0x51;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return new Uint8Array(out);
}

async function exec(bytes: Uint8Array): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  // The chunks are views of the WASM heap, reused on the next write: copy each.
  await lite!.execProtocolRawStream(bytes, { onRawData: (d) => chunks.push(d.slice()) });
  return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
}

/** Run one connection's messages: its start-up packet alone, Terminate never (the backend is shared). */
async function wire(conn: number, bytes: Uint8Array): Promise<Uint8Array> {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let at = 0;
  if (!started.has(conn)) {
    started.add(conn);
    const len = view.readInt32BE(0);
    parts.push(await exec(bytes.subarray(0, len)));
    at = len;
  }
  let from = at;
  while (at < view.length) {
    const len = view.readInt32BE(at + 1);
    if (view[at] === TERMINATE) {
      if (at > from) parts.push(await exec(bytes.subarray(from, at)));
      await end(conn);
      from = at + 1 + len;
    }
    at += 1 + len;
  }
  if (from < view.length) parts.push(await exec(bytes.subarray(from)));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A connection that goes away mid-transaction leaves nothing open on the shared backend. */
async function end(conn: number): Promise<void> {
  if (!started.delete(conn)) return;
  if (lite!.isInTransaction()) await exec(ROLLBACK);
}

async function handle(m: ToPglite): Promise<void> {
  if (m.type === "open") {
    const [{ PGlite }, { vector }] = await Promise.all([import(data.pgliteUrl), import(data.vectorUrl)]);
    lite = (await PGlite.create(data.dataDir, {
      extensions: { vector },
      loadDataDir: m.loadDataDir ? new Blob([m.loadDataDir]) : undefined,
    })) as PGlite;
    return send({ type: "ready" });
  }
  try {
    if (m.type === "wire") {
      const bytes = await wire(m.conn, m.bytes);
      const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
      return send({ type: "done", id: m.id, bytes: own }, [own.buffer as ArrayBuffer]);
    }
    if (m.type === "end") {
      await end(m.conn);
      return send({ type: "done", id: m.id });
    }
    if (m.type === "dump") {
      const blob = await lite!.dumpDataDir("gzip");
      const data = await blob.arrayBuffer();
      return send({ type: "dumped", id: m.id, data }, [data]);
    }
    if (m.type === "close") {
      const l = lite;
      lite = null;
      await l?.close();
      send({ type: "done", id: m.id });
      port.close();
    }
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    // A trap or an abort (out of memory) leaves the WASM instance unusable: the
    // thread dies of it (uncaught), so the host restarts it instead of failing every later statement.
    if (err instanceof WebAssembly.RuntimeError || /^Aborted\(/.test(message)) throw err;
    send({ type: "error", id: m.id, message });
  }
}

port.on("message", (m: ToPglite) => {
  queue = queue.then(() =>
    handle(m).catch((err) => {
      if (m.type === "open") send({ type: "failed", message: (err as Error)?.message ?? String(err) });
      else throw err;
    }),
  );
});
