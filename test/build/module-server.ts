// Loopback servers for import tests: a module server (files by path, changeable) and a fake
// npm registry serving packuments and tarballs built on the spot. Never the internet.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface Loopback {
  url: string;
  /** Requests seen, as "METHOD path". */
  hits: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return `http://127.0.0.1:${addr.port}`;
}

function closer(server: Server): () => Promise<void> {
  return () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
}

/** Serves `files[path]` (mutable); `redirects[path]` answers 302 to another path. */
export async function moduleServer(files: Record<string, string>, redirects: Record<string, string> = {}): Promise<Loopback> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const path = req.url!.split("?")[0]!;
    if (redirects[path]) return void res.writeHead(302, { location: redirects[path] }).end();
    const body = files[path];
    if (body === undefined) return void res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": path.endsWith(".ts") ? "application/typescript" : "application/javascript" }).end(body);
  });
  const url = await listen(server);
  return { url, hits, close: closer(server) };
}

export interface FakePackage {
  name: string;
  version: string;
  /** File name -> contents; package.json is generated unless given. */
  files: Record<string, string>;
}

/** A registry answering `GET /<name>` with a packument and `GET /-/<tarball>` with the package. */
export async function fakeRegistry(packages: FakePackage[]): Promise<Loopback> {
  const work = await mkdtemp(join(tmpdir(), "hangar-registry-"));
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, Record<string, unknown>>();
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const path = decodeURIComponent(req.url!.split("?")[0]!).slice(1);
    const tgz = tarballs.get(path);
    if (tgz) return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(tgz);
    const doc = packuments.get(path);
    if (!doc) return void res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc).replaceAll("REGISTRY", url));
  });
  const url = await listen(server);
  for (const p of packages) {
    const dir = join(work, p.name.replace("/", "+"), p.version, "package");
    await mkdir(dir, { recursive: true });
    const files = { "package.json": JSON.stringify({ name: p.name, version: p.version, type: "module", main: "index.js" }), ...p.files };
    for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text);
    const file = join(work, `${p.name.replace("/", "+")}-${p.version}.tgz`);
    await promisify(execFile)("tar", ["-czf", file, "-C", join(dir, ".."), "package"]);
    const bytes = await readFile(file);
    const tarName = `-/${p.name.replace("/", "+")}-${p.version}.tgz`;
    tarballs.set(tarName, bytes);
    const doc = packuments.get(p.name) ?? { name: p.name, "dist-tags": {}, versions: {} as Record<string, unknown> };
    (doc["dist-tags"] as Record<string, string>).latest = p.version;
    (doc.versions as Record<string, unknown>)[p.version] = {
      name: p.name, version: p.version, main: "index.js", type: "module",
      dist: {
        tarball: `REGISTRY/${tarName}`,
        integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
        shasum: createHash("sha1").update(bytes).digest("hex"),
      },
    };
    packuments.set(p.name, doc);
  }
  const close = closer(server);
  return { url, hits, close: async () => { await close(); await rm(work, { recursive: true, force: true }); } };
}
