import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "hangar_session";
/** How long a login lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

export interface Session {
  /** Random id of this login; the CSRF token is derived from it. */
  id: string;
  expiresAt: number;
  csrf: string;
}

/**
 * Stateless sessions signed with a key derived from the admin token: every
 * instance of a fleet sharing the token accepts a login made on any other,
 * and changing the token ends every session.
 */
export class Sessions {
  private readonly key: Buffer;
  private readonly tokenDigest: Buffer;

  constructor(adminToken: string, private readonly now: () => number = Date.now) {
    this.key = createHash("sha256").update(`hangar-dashboard-session:${adminToken}`).digest();
    this.tokenDigest = sha256(adminToken);
  }

  /** Constant-time check of a token typed into the login form. */
  tokenMatches(given: string): boolean {
    return timingSafeEqual(sha256(given), this.tokenDigest);
  }

  /** A new session and the cookie value that carries it. */
  create(): { session: Session; cookie: string } {
    const id = randomBytes(18).toString("base64url");
    const expiresAt = this.now() + SESSION_TTL_MS;
    const body = `v1.${expiresAt}.${id}`;
    return { session: this.session(id, expiresAt), cookie: `${body}.${this.mac(`session:${body}`)}` };
  }

  /** The session a cookie value carries, or null when it is missing, forged or expired. */
  verify(cookie: string | undefined): Session | null {
    const m = cookie ? /^(v1\.(\d{1,15})\.([A-Za-z0-9_-]{24}))\.([A-Za-z0-9_-]{43})$/.exec(cookie) : null;
    if (!m) return null;
    const expected = Buffer.from(this.mac(`session:${m[1]}`));
    const given = Buffer.from(m[4]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    const expiresAt = Number(m[2]);
    if (expiresAt <= this.now()) return null;
    return this.session(m[3], expiresAt);
  }

  /** Constant-time comparison of a submitted CSRF token with the session's. */
  csrfMatches(session: Session, given: string | undefined): boolean {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(session.csrf);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private session(id: string, expiresAt: number): Session {
    return { id, expiresAt, csrf: this.mac(`csrf:${id}`) };
  }

  private mac(s: string): string {
    return createHmac("sha256", this.key).update(s).digest("base64url");
  }
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}
