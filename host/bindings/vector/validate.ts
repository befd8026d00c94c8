import { VectorError } from "./errors.ts";

export const COLLECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const MAX_K = 1000;
export const MAX_DIMENSION = 2000;
export const MAX_ITEMS = 10_000;

/** Prefix naming the shared namespace: "shared:docs" is the collection "docs" every function may use. */
export const SHARED_PREFIX = "shared:";

/** A collection name as the guest wrote it: its own (scope "own") or, with the prefix, the shared namespace's. */
export function collectionName(op: string, raw: unknown): { shared: boolean; name: string; label: string } {
  const shared = typeof raw === "string" && raw.startsWith(SHARED_PREFIX);
  const name = shared ? (raw as string).slice(SHARED_PREFIX.length) : raw;
  if (typeof name !== "string" || !COLLECTION_NAME.test(name)) {
    throw new VectorError(`${op}: collection name ${JSON.stringify(raw)} must match ${COLLECTION_NAME.source}, optionally prefixed with "${SHARED_PREFIX}"`, "VECTOR_INVALID");
  }
  return { shared, name, label: raw as string };
}

/**
 * An embedding's numbers: an array as given, or the Float64Array of one the
 * guest packed (runtime/guest/hangar.js sends an all-number array or a
 * Float32Array/Float64Array as `{ float64: <its bytes> }`: the interpreter
 * writes JSON text of doubles slowly). Anything else is returned as it is,
 * for the checks to refuse.
 */
export function embeddingNumbers(e: unknown): unknown {
  if (e === null || typeof e !== "object" || Array.isArray(e)) return e;
  const bytes = (e as { float64?: unknown }).float64;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength % 8 !== 0 || Object.keys(e).length !== 1) return e;
  // WebAssembly memory is little-endian, as every platform Node runs Hangar on
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  return new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
}

/** The number of dimensions of an embedding (packed or not), or 0 when it is not one. */
export function embeddingLength(e: unknown): number {
  const v = embeddingNumbers(e);
  return Array.isArray(v) || v instanceof Float64Array ? v.length : 0;
}

/** An embedding as pgvector text, checked to be finite numbers of the expected length. */
export function embeddingText(op: string, collection: string, raw: unknown, expected: number | null, what: string): string {
  const e = embeddingNumbers(raw);
  const numbers = e instanceof Float64Array ? e.every(Number.isFinite) : Array.isArray(e) && e.every((x) => typeof x === "number" && Number.isFinite(x));
  const n = numbers ? (e as ArrayLike<number>).length : 0;
  if (n === 0) throw new VectorError(`${op}("${collection}"): ${what} must be a non-empty array of finite numbers`, "VECTOR_INVALID");
  if (n > MAX_DIMENSION) throw new VectorError(`${op}("${collection}"): ${what} has ${n} dimensions; at most ${MAX_DIMENSION} are supported`, "VECTOR_INVALID");
  if (expected !== null && n !== expected) {
    throw new VectorError(`${op}("${collection}"): ${what} has ${n} dimensions; collection "${collection}" expects ${expected}`, "VECTOR_DIMENSION");
  }
  // pgvector's text form is a JSON array of numbers; JSON.stringify formats
  // fresh doubles about 2.5x faster than join (which only wins on V8's
  // number-string cache, i.e. on the same numbers again).
  return JSON.stringify(e instanceof Float64Array ? Array.from(e) : e);
}

export function topK(k: unknown): number {
  if (k === undefined || k === null) return 10;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1) throw new VectorError(`vector.search: k must be a positive integer, got ${JSON.stringify(k)}`, "VECTOR_INVALID");
  if (k > MAX_K) throw new VectorError(`vector.search: k is ${k}; at most ${MAX_K} results per search`, "VECTOR_K_LIMIT");
  return k;
}

export function plainObject(op: string, what: string, v: unknown): Record<string, unknown> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v) || v instanceof Date || v instanceof Uint8Array) {
    throw new VectorError(`${op}: ${what} must be a plain object`, "VECTOR_INVALID");
  }
  return v as Record<string, unknown>;
}

/** hnsw.ef_search's range in pgvector. */
export const MAX_EF_SEARCH = 1000;

/** The `efSearch` search option: an integer in 1..1000, or null when not given. */
export function efSearchOption(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_EF_SEARCH) {
    throw new VectorError(`vector.search: efSearch must be an integer from 1 to ${MAX_EF_SEARCH} (hnsw.ef_search), got ${JSON.stringify(v)}`, "VECTOR_INVALID");
  }
  return v;
}
