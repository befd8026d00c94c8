// Dashboard sessions and same-origin checks, without a browser.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { sameOrigin } from "../../host/dashboard/csrf.ts";
import { SESSION_TTL_MS, Sessions } from "../../host/dashboard/session.ts";

test("a session cookie verifies on any instance with the token, and on none without it", () => {
  let now = 1_000_000;
  const a = new Sessions("token-1", () => now);
  const { cookie, session } = a.create();
  const fleetPeer = new Sessions("token-1", () => now);
  assert.deepEqual(fleetPeer.verify(cookie), session, "another instance sharing the token accepts it");
  assert.equal(new Sessions("token-2", () => now).verify(cookie), null, "a changed admin token ends every session");
  const [v, exp, id, mac] = cookie.split(".");
  assert.equal(a.verify(`${v}.${Number(exp) + 1_000_000}.${id}.${mac}`), null, "a stretched expiry breaks the signature");
  assert.equal(a.verify(`${v}.${exp}.${id.replace(/^./, (c) => (c === "A" ? "B" : "A"))}.${mac}`), null, "another id breaks the signature");
  assert.equal(a.verify(undefined), null);
  assert.equal(a.verify("garbage"), null);
  now += SESSION_TTL_MS;
  assert.equal(a.verify(cookie), null, "an expired session is refused");
});

test("the CSRF token belongs to its session and is compared whole", () => {
  const s = new Sessions("t");
  const one = s.create().session;
  const two = s.create().session;
  assert.equal(s.csrfMatches(one, one.csrf), true);
  assert.equal(s.csrfMatches(one, two.csrf), false);
  assert.equal(s.csrfMatches(one, one.csrf.slice(0, -1)), false);
  assert.equal(s.csrfMatches(one, undefined), false);
  assert.equal(s.tokenMatches("t"), true);
  assert.equal(s.tokenMatches("t "), false);
});

test("same-origin: a foreign Origin or a cross-site fetch is refused; this host, a proxy's host or no header passes", async () => {
  const app = new Hono();
  app.post("/", (c) => {
    const r = sameOrigin(c);
    return c.text(r.ok ? "ok" : r.reason, r.ok ? 200 : 403);
  });
  const post = (headers: Record<string, string>) => app.request("http://dash.test/", { method: "POST", headers });
  assert.equal((await post({ host: "dash.test", origin: "http://dash.test" })).status, 200);
  assert.equal((await post({ host: "dash.test" })).status, 200, "curl sends neither header; the cookie and token still guard it");
  assert.equal((await post({ host: "internal:8787", "x-forwarded-host": "dash.example.com", origin: "https://dash.example.com" })).status, 200);
  assert.equal((await post({ host: "dash.test", origin: "http://evil.test" })).status, 403);
  assert.equal((await post({ host: "dash.test", origin: "null" })).status, 403);
  assert.equal((await post({ host: "dash.test", origin: "http://dash.test", "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal((await post({ host: "dash.test", origin: "http://dash.test", "sec-fetch-site": "same-site" })).status, 403);
});
