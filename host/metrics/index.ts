// Prometheus metrics of one instance, on a registry of its own.
export { createMetrics, type Metrics, type MetricsOptions, type MetricSources } from "./metrics.ts";
export { metricsRoutes } from "./routes.ts";
export { fanout } from "../logs/fanout.ts";
