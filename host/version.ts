import { readFileSync } from "node:fs";

/** Hangar's own version, from package.json. */
export const HANGAR_VERSION: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;
