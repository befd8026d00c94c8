import { fileURLToPath } from "node:url";

/** Absolute path of `hangar.d.ts`, the type declarations for function authors. */
export const HANGAR_TYPES_PATH = fileURLToPath(new URL("./hangar.d.ts", import.meta.url));
