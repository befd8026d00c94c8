// What a guest's fetch may do. Resolved once (defaults applied here only).
import type { Resolver } from "./agent.ts";

export interface FetchPolicy {
  /** Permit loopback addresses; only when the operator explicitly allows it (tests do). */
  allowLoopback?: boolean;
  /** Permit RFC 1918, unique-local, CGNAT and link-local addresses (metadata endpoints stay refused). */
  allowPrivate?: boolean;
  /** Hostname allow-list ("api.example.com", "*.example.com", "*"); null or absent = any allowed address. */
  egress?: readonly string[] | null;
  /** Whole-fetch deadline including redirects and reading the body; default 10 000. */
  timeoutMs?: number;
  /** Response body cap in bytes, after content decoding; default 10 MiB. */
  maxResponseBytes?: number;
  /** Request body cap in bytes; default 10 MiB. */
  maxRequestBytes?: number;
  /** Redirects followed before failing; default 10. */
  maxRedirects?: number;
  /** Name resolution, for tests; default dns.lookup with all: true. */
  resolve?: Resolver;
  /** Requests one binding may send, every redirect hop counted (the subrequest limit); default unlimited. */
  maxRequests?: number;
}

export interface ResolvedFetchPolicy {
  allowLoopback: boolean;
  allowPrivate: boolean;
  egress: readonly string[] | null;
  timeoutMs: number;
  maxResponseBytes: number;
  maxRequestBytes: number;
  maxRedirects: number;
  maxRequests: number;
  resolve: Resolver | undefined;
}

const MiB = 1024 * 1024;

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`fetch policy: ${name} must be a non-negative number, got ${value}`);
  return value;
}

/** Apply defaults and validate; the only place defaults live. */
export function resolveFetchPolicy(policy: FetchPolicy = {}): ResolvedFetchPolicy {
  return {
    allowLoopback: policy.allowLoopback === true,
    allowPrivate: policy.allowPrivate === true,
    egress: policy.egress ? [...policy.egress] : null,
    timeoutMs: nonNegative("timeoutMs", policy.timeoutMs, 10_000),
    maxResponseBytes: nonNegative("maxResponseBytes", policy.maxResponseBytes, 10 * MiB),
    maxRequestBytes: nonNegative("maxRequestBytes", policy.maxRequestBytes, 10 * MiB),
    maxRedirects: nonNegative("maxRedirects", policy.maxRedirects, 10),
    maxRequests: policy.maxRequests ?? Number.POSITIVE_INFINITY,
    resolve: policy.resolve,
  };
}
