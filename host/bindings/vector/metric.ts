export type Metric = "cosine" | "l2" | "ip";

export interface MetricInfo {
  /** pgvector distance operator. */
  op: string;
  /** HNSW operator class. */
  opclass: string;
  /** Higher is closer. */
  score(distance: number): number;
}

/**
 * cosine: score = 1 - cosine distance (1 same direction, 0 orthogonal, -1 opposite).
 * l2:     score = 1 / (1 + euclidean distance) (1 identical, towards 0 far away).
 * ip:     score = inner product (pgvector's <#> is its negation).
 */
export const METRICS: Record<Metric, MetricInfo> = {
  cosine: { op: "<=>", opclass: "vector_cosine_ops", score: (d) => 1 - d },
  l2: { op: "<->", opclass: "vector_l2_ops", score: (d) => 1 / (1 + d) },
  ip: { op: "<#>", opclass: "vector_ip_ops", score: (d) => -d },
};

export const isMetric = (m: unknown): m is Metric => m === "cosine" || m === "l2" || m === "ip";
