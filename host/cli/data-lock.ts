import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { UserError } from "../errors.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Take the embedded database's directory for this process before opening it:
 * PGlite opened twice on one directory corrupts it. A lock file holds the
 * owner's pid; a stale one (its process gone) is taken over. Returns release,
 * safe twice (also run at exit).
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "hangar.lock");
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 3) throw err;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        const where = relative(process.cwd(), dataDir) || dataDir;
        throw new UserError(`the embedded database in ${where} is in use by another hangar (pid ${pid}); stop it first, or run this command while \`hangar dev\` is up`, "DATA_DIR_LOCKED");
      }
      try {
        unlinkSync(file); // stale: its owner is gone
      } catch {
        // another process took it over first; try again
      }
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    try {
      if (readFileSync(file, "utf8").trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.on("exit", release);
  return release;
}
