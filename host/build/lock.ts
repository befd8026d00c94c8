// The lock file beside the functions (`hangar.lock.json`): what every remote import resolved to
// at the first deploy, so later deploys use exactly that, from the cache, without the network.
import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "./errors.ts";

export const LOCK_FILENAME = "hangar.lock.json";

export interface RemoteEntry {
  /** `sha256-<base64>` of the module's bytes (Subresource Integrity form). */
  integrity: string;
  /** Where the URL redirected to, when it did: relative imports resolve against it. */
  redirect?: string;
}

export interface LockData {
  version: 1;
  /** `https://` modules by the URL as imported. */
  remote: Record<string, RemoteEntry>;
  /** `npm:`/`jsr:` packages: `name@range` as imported -> exact version installed. */
  npm: Record<string, string>;
}

/** One lock file, loaded once per deploy run; `save()` writes it when something was added. */
export class Lock {
  private dirty = false;
  private constructor(readonly path: string, readonly data: LockData) {}

  static async open(functionsDir: string): Promise<Lock> {
    const path = join(functionsDir, LOCK_FILENAME);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch {
      return new Lock(path, { version: 1, remote: {}, npm: {} });
    }
    let data: Partial<LockData>;
    try {
      data = JSON.parse(text) as Partial<LockData>;
    } catch (cause) {
      throw new BuildError(`${path} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    if (data.version !== 1) throw new BuildError(`${path}: unknown lock file version ${JSON.stringify(data.version)} (expected 1)`);
    return new Lock(path, { version: 1, remote: data.remote ?? {}, npm: data.npm ?? {} });
  }

  remote(url: string): RemoteEntry | undefined {
    return Object.hasOwn(this.data.remote, url) ? this.data.remote[url] : undefined;
  }

  setRemote(url: string, entry: RemoteEntry): void {
    this.data.remote[url] = entry;
    this.dirty = true;
  }

  npm(key: string): string | undefined {
    return Object.hasOwn(this.data.npm, key) ? this.data.npm[key] : undefined;
  }

  setNpm(key: string, version: string): void {
    this.data.npm[key] = version;
    this.dirty = true;
  }

  /** Writes the lock (sorted keys, atomically) when entries were added; no-op otherwise. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
    const text = `${JSON.stringify({ version: 1, remote: sorted(this.data.remote), npm: sorted(this.data.npm) }, null, 2)}\n`;
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.path);
    this.dirty = false;
  }
}

/** `sha256-<base64>` of `bytes`. */
export function integrityOf(bytes: Uint8Array): string {
  return `sha256-${createHash("sha256").update(bytes).digest("base64")}`;
}
