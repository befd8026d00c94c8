#!/usr/bin/env node
// Entry point. Checks Node's version before anything heavy is imported (an
// older Node would crash deep inside a dependency), then registers the module
// hooks (ts-hooks.js) that run the TypeScript sources as they are.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 18)) {
  process.stderr.write(`hangar: needs Node.js 20.18 or newer; this is ${process.version} (see https://nodejs.org)\n`);
  process.exit(1);
}
// `hangar logs | head`: the reader went away; stop quietly instead of a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}
await import("./ts-register.js");
process.setSourceMapsEnabled(true);
const { main } = await import("../host/cli/main.ts");
const io = { out: (l) => process.stdout.write(l + "\n"), err: (l) => process.stderr.write(l + "\n") };
process.exitCode = await main(process.argv.slice(2), io);
