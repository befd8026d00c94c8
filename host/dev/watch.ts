import { watch, type FSWatcher } from "node:fs";

/** Call `onChange` (debounced, never overlapping) when anything under `dir` changes. Returns a close function, safe twice. */
export function watchDir(dir: string, onChange: () => Promise<void>, debounceMs = 150): () => void {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  const fire = () => {
    if (running) {
      again = true;
      return;
    }
    running = onChange().finally(() => {
      running = null;
      if (again) {
        again = false;
        fire();
      }
    });
  };
  let watcher: FSWatcher | null = watch(dir, { recursive: true }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  watcher.on("error", () => {});
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
    watcher = null;
  };
}
