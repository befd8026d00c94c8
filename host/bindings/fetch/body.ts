// Read a response body into memory, stopping as soon as it passes the cap.
import { concatBytes } from "../../../runtime/concat-bytes.ts";
import { FetchError } from "./errors.ts";
import type { BodyReader } from "./send.ts";

function tooLarge(host: string, max: number): FetchError {
  return new FetchError("RESPONSE_TOO_LARGE", `fetch to ${host} failed: response body exceeds the ${max}-byte limit`);
}

/** Collect `body`; cancels it and throws RESPONSE_TOO_LARGE past `max` bytes. */
export async function readCapped(body: BodyReader | null, max: number, host: string): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await body.read();
    if (done) return concatBytes(chunks, total);
    total += value.byteLength;
    if (total > max) {
      await body.cancel().catch(() => {});
      throw tooLarge(host, max);
    }
    chunks.push(value);
  }
}

/** Fail before reading when a declared Content-Length is already over the cap. */
export function checkDeclaredLength(contentLength: string | null, max: number, host: string): void {
  if (contentLength === null) return;
  const n = Number(contentLength);
  if (Number.isFinite(n) && n > max) throw tooLarge(host, max);
}
