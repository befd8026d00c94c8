// Hello-path micro-benchmark, in process: node --import tsx runtime/bench-hello.ts [threads] [N] [rounds]
// The handler is functions/hello.ts's; figures are per invocation, sequential and concurrent:
// wall time, and the process's CPU time (less moved by other load on the machine).
import { createRuntime } from "./index.ts";
import type { InvocationInput, Limits } from "./types.ts";
import { preludeSource } from "./prelude.ts";

const threads = Number(process.argv[2] ?? 0);
const N = Number(process.argv[3] ?? 5000);
const limits: Limits = { cpuMs: 5000, wallMs: 30000, memoryMb: 128, subrequests: 50 };
const input: InvocationInput = { requestId: "bench", env: {}, auth: null, limits, host: {} };
const hello = `globalThis.__hangar_exports = { default: { async fetch(request) {
  const url = new URL(request.url);
  const name = url.searchParams.get("name") ?? "world";
  return Response.json({ message: \`Hello, \${name}!\`, method: request.method, path: url.pathname });
} } };`;
const req = { url: "http://127.0.0.1:8787/hello?name=bench", method: "GET", headers: [["host", "127.0.0.1:8787"], ["user-agent", "autocannon"], ["accept", "*/*"], ["connection", "keep-alive"]] as [string, string][], body: null };

preludeSource();
const rt = await createRuntime({ threads });
const inst = await rt.load("hello", hello, { limits });
const once = async () => {
  const o = await inst.fetch(req, input);
  if (!o.ok) throw new Error(o.error.message);
  return o.value.text();
};
console.log(await once());
for (let i = 0; i < 500; i++) await once();
const rounds: string[] = [];
const cpu: number[] = [];
const ROUNDS = Number(process.argv[4] ?? 5);
for (let r = 0; r < ROUNDS; r++) {
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await once();
  const seq = (performance.now() - t0) / N * 1000;
  let c1 = process.cpuUsage(c0);
  const seqCpu = (c1.user + c1.system) / N;
  t0 = performance.now();
  c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: N }, once));
  const conc = (performance.now() - t0) / N * 1000;
  c1 = process.cpuUsage(c0);
  const concCpu = (c1.user + c1.system) / N;
  cpu.push(seqCpu, concCpu);
  rounds.push(`seq ${seq.toFixed(0)} us (cpu ${seqCpu.toFixed(0)}), concurrent ${conc.toFixed(0)} us (cpu ${concCpu.toFixed(0)})`);
}
console.log(`hello, threads=${threads}: ${rounds.join("; ")}`);
cpu.sort((a, b) => a - b);
console.log(`CPU per invocation over ${ROUNDS} rounds: min ${cpu[0].toFixed(0)} us, median ${cpu[cpu.length >> 1].toFixed(0)} us`);
await rt.close();
