// jose, bundled as a function imports it, in the sandbox: JWTs that Node's jose signs with RS256,
// PS256, ES256 and EdDSA verify in the guest (public keys as SPKI PEM and as JWK), a tampered one
// is refused, and what the guest signs Node verifies. The case: JWT verification failed
// in the guest while WebCrypto was HMAC-only.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as jose from "jose";
import { bundleFunction } from "../../host/build/index.ts";
import { createRuntime, type Runtime } from "../../runtime/index.ts";
import { project, type Project } from "./fixtures.ts";

const LIMITS = { cpuMs: 10_000, wallMs: 30_000, memoryMb: 128, subrequests: 5 };
let rt: Runtime;
let p: Project;

before(async () => {
  rt = await createRuntime({});
  p = await project();
});
after(async () => {
  await rt.close();
  await p.close();
});

const FUNCTION = `
import { importJWK, importPKCS8, importSPKI, jwtVerify, SignJWT } from "jose";
export default {
  async fetch(request: Request) {
    const { cases, signWith } = await request.json();
    const verified = [];
    for (const c of cases) {
      try {
        const key = c.spki ? await importSPKI(c.spki, c.alg) : await importJWK(c.jwk, c.alg);
        const { payload, protectedHeader } = await jwtVerify(c.token, key, { issuer: "node", audience: "guest" });
        verified.push([protectedHeader.alg, payload.sub]);
      } catch (e) {
        verified.push([c.alg, (e as { code?: string }).code ?? String(e)]);
      }
    }
    const key = await importPKCS8(signWith.pkcs8, signWith.alg);
    const token = await new SignJWT({ sub: "from-guest" }).setProtectedHeader({ alg: signWith.alg }).setIssuer("guest").setExpirationTime("5m").sign(key);
    return Response.json({ verified, token });
  },
};
`;

test("jose in the guest verifies RS256, PS256, ES256 and EdDSA tokens from Node, and Node verifies the guest's", async () => {
  const entry = await p.write("functions/jwt.ts", FUNCTION);
  const bundle = await bundleFunction(entry, { cwd: p.dir });
  const cases = [];
  const publics: Record<string, CryptoKey> = {};
  let signWith = { alg: "", pkcs8: "" };
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"]) {
    const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
    publics[alg] = publicKey;
    const token = await new jose.SignJWT({ sub: `sub-${alg}` }).setProtectedHeader({ alg }).setIssuer("node").setAudience("guest").setExpirationTime("5m").sign(privateKey);
    cases.push({ alg, token, spki: await jose.exportSPKI(publicKey) });
    cases.push({ alg, token, jwk: await jose.exportJWK(publicKey) });
    if (alg === "ES256") {
      const [h, body, sig] = token.split(".");
      cases.push({ alg, token: `${h}.${body}.${sig!.startsWith("A") ? "B" : "A"}${sig!.slice(1)}`, spki: await jose.exportSPKI(publicKey) });
      signWith = { alg, pkcs8: await jose.exportPKCS8(privateKey) };
    }
  }
  const inst = await rt.load("jwt", bundle.code, { limits: LIMITS });
  const o = await inst.fetch(new Request("http://x/", { method: "POST", body: JSON.stringify({ cases, signWith }) }), { requestId: "r", env: {}, auth: null, limits: LIMITS, host: {} });
  assert.ok(o.ok, JSON.stringify(!o.ok && o.error));
  const out = await o.value.json() as { verified: [string, string][]; token: string };
  assert.deepEqual(out.verified, [
    ["RS256", "sub-RS256"], ["RS256", "sub-RS256"], ["PS256", "sub-PS256"], ["PS256", "sub-PS256"],
    ["ES256", "sub-ES256"], ["ES256", "sub-ES256"], ["ES256", "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"],
    ["EdDSA", "sub-EdDSA"], ["EdDSA", "sub-EdDSA"],
  ]);
  const { payload } = await jose.jwtVerify(out.token, publics.ES256!, { issuer: "guest" });
  assert.equal(payload.sub, "from-guest");
});
