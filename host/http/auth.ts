import { createHash } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { Sql } from "../db/index.ts";
import type { ActiveFunction } from "../registry/index.ts";

export interface AuthOptions {
  jwtSecret: string | null;
  jwksUrl: string | null;
  /** HANGAR_JWT_AUDIENCE / HANGAR_JWT_ISSUER: required `aud` / `iss`, or null. */
  audience?: string | null;
  issuer?: string | null;
  db: Sql;
}

// RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
const HMAC = [
  { alg: "HS256", bytes: 32 },
  { alg: "HS384", bytes: 48 },
  { alg: "HS512", bytes: 64 },
];
// A JWKS holds public keys: only asymmetric algorithms fit (never an HMAC "secret" taken from a public key).
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

export type AuthResult =
  | { ok: true; claims: Record<string, unknown> | null }
  | { ok: false; status: 401 | 403; code: string; message: string };

/** Per-function auth: `public`, `jwt` (HS256 secret or JWKS), `key` (hashed per-function keys). */
export function createAuthenticator(opts: AuthOptions) {
  const secret = opts.jwtSecret ? new TextEncoder().encode(opts.jwtSecret) : null;
  const jwks: JWTVerifyGetKey | null = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl)) : null;

  const hmacAlgs = secret ? HMAC.filter((h) => secret.byteLength >= h.bytes).map((h) => h.alg) : [];
  // Every token must expire; audience and issuer are enforced when configured.
  const checks = {
    requiredClaims: ["exp"],
    ...(opts.audience ? { audience: opts.audience } : {}),
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
  };

  async function verifyJwt(token: string): Promise<JWTPayload> {
    if (jwks) return (await jwtVerify(token, jwks, { ...checks, algorithms: ASYMMETRIC })).payload;
    if (secret) {
      if (!hmacAlgs.length) throw new Error("HANGAR_JWT_SECRET is shorter than 32 bytes, too short for any HMAC algorithm");
      return (await jwtVerify(token, secret, { ...checks, algorithms: hmacAlgs })).payload;
    }
    throw new Error("no HANGAR_JWT_SECRET or HANGAR_JWKS_URL is configured");
  }

  return async function authenticate(fn: ActiveFunction, headers: Headers): Promise<AuthResult> {
    const mode = fn.config.auth;
    if (mode === "public") return { ok: true, claims: null };
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.get("authorization") ?? "")?.[1]?.trim();
    if (mode === "jwt") {
      if (!bearer) return { ok: false, status: 401, code: "UNAUTHORIZED", message: `function "${fn.name}" requires a JWT: send Authorization: Bearer <token>` };
      try {
        return { ok: true, claims: (await verifyJwt(bearer)) as Record<string, unknown> };
      } catch (err) {
        return { ok: false, status: 401, code: "INVALID_TOKEN", message: `JWT rejected: ${(err as Error).message}` };
      }
    }
    const key = headers.get("x-api-key") ?? bearer;
    if (!key) return { ok: false, status: 401, code: "UNAUTHORIZED", message: `function "${fn.name}" requires an API key: send x-api-key or Authorization: Bearer <key>` };
    const { rowCount } = await opts.db.query("select 1 from hangar.function_keys where function_name = $1 and key_hash = $2", [fn.name, hashKey(key)]);
    if (!rowCount) return { ok: false, status: 403, code: "FORBIDDEN", message: `the API key is not valid for function "${fn.name}"` };
    return { ok: true, claims: null };
  };
}

/** Keys are stored as SHA-256: they are random and long, so no slow hash is needed. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
