// Read a response body into memory, stopping as soon as it passes the cap.
import { readCapped as readAll } from "../../util/read-capped.ts";
import { FetchError } from "./errors.ts";

function tooLarge(host: string, max: number): FetchError {
  return new FetchError("RESPONSE_TOO_LARGE", `fetch to ${host} failed: response body exceeds the ${max}-byte limit`);
}

/** Collect `stream`; cancels it and throws RESPONSE_TOO_LARGE past `max` bytes. */
export async function readCapped(stream: ReadableStream<Uint8Array> | null, max: number, host: string): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const bytes = await readAll(stream, max);
  if (!bytes) throw tooLarge(host, max);
  return bytes;
}

/** Fail before reading when a declared Content-Length is already over the cap. */
export function checkDeclaredLength(contentLength: string | null, max: number, host: string): void {
  if (contentLength === null) return;
  const n = Number(contentLength);
  if (Number.isFinite(n) && n > max) throw tooLarge(host, max);
}
