#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources run as they are.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../host/cli/main.ts");
const io = { out: (l) => process.stdout.write(l + "\n"), err: (l) => process.stderr.write(l + "\n") };
process.exitCode = await main(process.argv.slice(2), io);
