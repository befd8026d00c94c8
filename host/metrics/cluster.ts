// `hangar start --workers N`: each worker process counts in its own registry;
// a scrape lands on any one worker, which asks the primary for the whole
// instance. The primary collects every worker's registry over the cluster
// IPC channel and merges them with prom-client's AggregatorRegistry (each
// metric by its own aggregator: counters and histograms add up, whole-database
// gauges take the max). Series carry the instance's node id, not the worker's,
// so they merge.
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

type Message =
  /** worker → primary: this worker answers collects (its registry exists). */
  | { type: "hangar:metrics:ready" }
  /** worker → primary: a scrape arrived here; send the whole instance's text. */
  | { type: "hangar:metrics:scrape"; id: number }
  /** primary → worker */
  | { type: "hangar:metrics:scraped"; id: number; text: string }
  /** primary → worker: send your registry's figures. */
  | { type: "hangar:metrics:collect"; id: number }
  /** worker → primary */
  | { type: "hangar:metrics:collected"; id: number; metrics: object[] | null };

const COLLECT_TIMEOUT_MS = 3_000;

function isMessage(m: unknown): m is Message {
  return typeof m === "object" && m !== null && typeof (m as { type?: unknown }).type === "string" && (m as { type: string }).type.startsWith("hangar:metrics:");
}

let workerRegistry: Registry | null = null;
const scrapes = new Map<number, (text: string) => void>();
let nextScrape = 1;

/**
 * In a cluster worker: answer the primary's collects from `registry` and
 * return a scrape of the whole instance (through the primary). Elsewhere: null.
 */
export function clusterScrape(registry: Registry): (() => Promise<string>) | null {
  if (!cluster.isWorker || !process.send) return null;
  const first = workerRegistry === null;
  workerRegistry = registry;
  if (first) {
    process.on("message", (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.type === "hangar:metrics:collect") {
        const answer = (metrics: object[] | null) => process.send?.({ type: "hangar:metrics:collected", id: m.id, metrics } satisfies Message);
        (workerRegistry?.getMetricsAsJSON() ?? Promise.resolve(null)).then(answer, () => answer(null));
      } else if (m.type === "hangar:metrics:scraped") {
        scrapes.get(m.id)?.(m.text);
        scrapes.delete(m.id);
      }
    });
    process.send({ type: "hangar:metrics:ready" } satisfies Message);
  }
  return () =>
    new Promise<string>((resolve) => {
      const id = nextScrape++;
      // A primary that never answers (it is stopping): this process's own figures, said so.
      const timer = setTimeout(async () => {
        scrapes.delete(id);
        resolve(`# hangar: the cluster primary did not answer; this worker process's figures only\n${await registry.metrics()}`);
      }, COLLECT_TIMEOUT_MS * 2);
      scrapes.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send!({ type: "hangar:metrics:scrape", id } satisfies Message);
    });
}

/** In the cluster primary: answer workers' scrapes with every worker's figures merged, labelled `node`. Returns a stop function. */
export function serveClusterMetrics(nodeId: string): () => void {
  const ready = new Set<Worker>();
  const collects = new Map<number, (worker: Worker, metrics: object[] | null) => void>();
  let nextCollect = 1;

  const collectAll = async (): Promise<string> => {
    const workers = [...ready].filter((w) => w.isConnected());
    const results = await new Promise<object[][]>((resolve) => {
      const got = new Map<Worker, object[]>();
      const id = nextCollect++;
      const finish = () => {
        clearTimeout(timer);
        collects.delete(id);
        resolve([...got.values()]);
      };
      const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
      let waiting = workers.length;
      collects.set(id, (w, metrics) => {
        if (metrics) got.set(w, metrics);
        if (--waiting === 0) finish();
      });
      if (!workers.length) finish();
      for (const w of workers) w.send({ type: "hangar:metrics:collect", id } satisfies Message);
    });
    for (const metrics of results) relabel(metrics, nodeId);
    const text = await AggregatorRegistry.aggregate(results).metrics();
    const missing = workers.length - results.length;
    return missing ? `# hangar: ${missing} of ${workers.length} worker processes did not answer in time\n${text}` : text;
  };

  const onMessage = (worker: Worker, m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === "hangar:metrics:ready") ready.add(worker);
    else if (m.type === "hangar:metrics:collected") collects.get(m.id)?.(worker, m.metrics);
    else if (m.type === "hangar:metrics:scrape") {
      collectAll().then(
        (text) => worker.isConnected() && worker.send({ type: "hangar:metrics:scraped", id: m.id, text } satisfies Message),
        (err: Error) => worker.isConnected() && worker.send({ type: "hangar:metrics:scraped", id: m.id, text: `# hangar: aggregation failed: ${err.message}\n` } satisfies Message),
      );
    }
  };
  const onExit = (worker: Worker) => ready.delete(worker);
  cluster.on("message", onMessage);
  cluster.on("exit", onExit);
  return () => {
    cluster.off("message", onMessage);
    cluster.off("exit", onExit);
  };
}

/** Every worker labels its series with its own node id (`<node>-wN`); the instance's figures carry the instance's. */
function relabel(metrics: object[], nodeId: string): void {
  for (const metric of metrics as { values?: { labels?: Record<string, string | number> }[] }[]) {
    for (const v of metric.values ?? []) if (v.labels && "node" in v.labels) v.labels.node = nodeId;
  }
}
