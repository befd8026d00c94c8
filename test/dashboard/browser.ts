// Headless Chromium for the dashboard tests: Debian's package (scripts/install-chromium.sh), driven by playwright-core.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** Safe twice. */
  close(): Promise<void>;
}

/** A fresh headless Chromium with a profile of its own. */
export async function launchBrowser(viewport = { width: 1280, height: 860 }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-chromium.sh (npm test does it when dashboard tests run)`);
  const profile = await mkdtemp(join(tmpdir(), "hangar-chromium-"));
  // The fresh profile is the --user-data-dir: playwright passes it as that flag itself and refuses it in args.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  let closing: Promise<void> | null = null;
  return {
    context,
    close: () => (closing ??= context.close().finally(() => rm(profile, { recursive: true, force: true }))),
  };
}
