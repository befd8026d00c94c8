// Writes function projects to a temp dir; node_modules links to the repo's so npm deps resolve "above".
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface Project {
  dir: string;
  write(rel: string, text: string): Promise<string>;
  close(): Promise<void>;
}

export async function project(opts: { nodeModules?: boolean } = {}): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), "hangar-build-"));
  if (opts.nodeModules !== false) await symlink(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
  return {
    dir,
    async write(rel, text) {
      const p = join(dir, rel);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, text);
      return p;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
