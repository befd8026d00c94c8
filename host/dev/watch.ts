import { watch as chokidarWatch } from "chokidar";

/**
 * Call `onChange` (debounced, never overlapping) when anything under `dir`
 * changes. chokidar watches the directories, so a file replaced by rename
 * (`sed -i`, editors' safe write, atomic-write tools) keeps being seen; Node's
 * own recursive fs.watch loses such a file after the first replacement.
 * Returns a close function, safe twice.
 */
export function watchDir(dir: string, onChange: () => Promise<void>, debounceMs = 150): () => void {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const fire = () => {
    if (closed) return;
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
  const watcher = chokidarWatch(dir, {
    ignoreInitial: true,
    ignored: (path) => /(^|[/\\])(node_modules|\.git|\.hangar)([/\\]|$)/.test(path),
  });
  watcher.on("all", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  watcher.on("error", () => {});
  return () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    void watcher.close();
  };
}
