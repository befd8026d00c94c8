// `node --import ./bin/ts-register.js script.ts`: run this package's TypeScript
// through the same module hooks as `hangar` (ts-hooks.js), so a benchmark or a
// peer script measures the code as it runs in production (tsx would wrap every
// function in its name-keeping helper).
import { register } from "node:module";

register("./ts-hooks.js", import.meta.url);
