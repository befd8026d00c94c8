// Receives signed webhooks (GitHub-style `x-hub-signature-256: sha256=<hex>`,
// an HMAC-SHA256 of the raw body with WEBHOOK_SECRET), verifies the signature
// in constant time, and stores each delivery once, keyed by its delivery id.
import { sql } from "hangar";

export const config = { limits: { wallMs: 10000 } };

const encoder = new TextEncoder();

function fromHex(hex: string): Uint8Array | null {
  if (!/^([0-9a-f]{2})+$/i.test(hex)) return null;
  return new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

async function verify(secret: string, body: Uint8Array, header: string | null): Promise<boolean> {
  const sig = header?.startsWith("sha256=") ? fromHex(header.slice(7)) : null;
  if (!sig) return false;
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return crypto.subtle.verify("HMAC", key, sig, body);
}

export default {
  async fetch(request: Request, env: Record<string, string>) {
    if (request.method !== "POST") return Response.json({ error: "POST a webhook here" }, { status: 405 });
    if (!env.WEBHOOK_SECRET) return Response.json({ error: "WEBHOOK_SECRET is not set: hangar secrets set WEBHOOK_SECRET=..." }, { status: 500 });
    const body = new Uint8Array(await request.arrayBuffer());
    if (!(await verify(env.WEBHOOK_SECRET, body, request.headers.get("x-hub-signature-256")))) {
      return Response.json({ error: "invalid signature" }, { status: 401 });
    }
    const delivery = request.headers.get("x-delivery-id");
    if (!delivery) return Response.json({ error: "missing x-delivery-id" }, { status: 400 });
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return Response.json({ error: "body is not JSON" }, { status: 400 });
    }
    const event = request.headers.get("x-event") ?? "unknown";
    const rows = await sql`insert into webhook_events (delivery_id, event, payload)
                           values (${delivery}, ${event}, ${JSON.stringify(payload)}::jsonb)
                           on conflict (delivery_id) do nothing returning delivery_id`;
    return Response.json({ stored: rows.length === 1, duplicate: rows.length === 0, delivery }, { status: rows.length ? 201 : 200 });
  },
};
