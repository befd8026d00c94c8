// graphile-worker with one task that reports each job to the bench's collector.
import { run } from "graphile-worker";

const collector = process.env.COLLECTOR!;
const runner = await run({
  connectionString: process.env.DATABASE_URL!,
  concurrency: Number(process.env.CONCURRENCY ?? 4),
  pollInterval: 1000,
  noHandleSignals: false,
  taskList: {
    record: async (payload) => {
      const res = await fetch(`${collector}/hit?id=g:${(payload as { id: number }).id}`);
      await res.arrayBuffer();
    },
  },
  logger: undefined,
});
process.stdout.write("ready\n");
await runner.promise;
