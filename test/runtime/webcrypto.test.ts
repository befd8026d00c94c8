// WebCrypto in the sandbox against Node's crypto.webcrypto: the same code
// (import, sign, verify, encrypt, decrypt, derive, wrap, export) gives the same
// answers in both, and what the guest signs or encrypts Node accepts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { createRuntime } from "../../runtime/index.ts";
import { ROOMY, input, fetchBundle, req } from "./helpers.ts";

const rt = await createRuntime();
after(() => rt.close());
const subtle = webcrypto.subtle;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...a: string[]) => () => Promise<unknown>;
let n = 0;

async function inGuest(body: string): Promise<any> {
  const inst = await rt.load(`wc-${n++}`, fetchBundle(`async () => Response.json(await (async () => { ${body} })())`), { limits: ROOMY });
  const o = await inst.fetch(req("/"), input({ limits: ROOMY }));
  if (!o.ok) throw new Error(`${o.error.kind}: ${o.error.message}\n${o.error.stack ?? ""}`);
  return o.value.json();
}

async function same(body: string): Promise<any> {
  const node = JSON.parse(JSON.stringify(await new AsyncFunction(body)()));
  assert.deepEqual(await inGuest(body), node);
  return node;
}

const b64 = (b: ArrayBuffer) => Buffer.from(b).toString("base64");
const HELPERS = `const enc = new TextEncoder(); const data = enc.encode("the quick brown fox");
  const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));`;

/** Key material made by Node, as the guest imports it. */
async function material() {
  const pair = async (alg: any, usages: string[]) => {
    const k = await subtle.generateKey(alg, true, usages as never) as webcrypto.CryptoKeyPair;
    return { pkcs8: b64(await subtle.exportKey("pkcs8", k.privateKey)), spki: b64(await subtle.exportKey("spki", k.publicKey)), jwk: await subtle.exportKey("jwk", k.privateKey) };
  };
  const rsa = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  return {
    pkcs1: await pair({ name: "RSASSA-PKCS1-v1_5", ...rsa }, ["sign", "verify"]),
    pss: await pair({ name: "RSA-PSS", ...rsa }, ["sign", "verify"]),
    oaep: await pair({ name: "RSA-OAEP", ...rsa }, ["encrypt", "decrypt"]),
    ecdsa: await pair({ name: "ECDSA", namedCurve: "P-256" }, ["sign", "verify"]),
    ecdh1: await pair({ name: "ECDH", namedCurve: "P-384" }, ["deriveBits"]),
    ecdh2: await pair({ name: "ECDH", namedCurve: "P-384" }, ["deriveBits"]),
    ed: await pair({ name: "Ed25519" }, ["sign", "verify"]),
    x1: await pair({ name: "X25519" }, ["deriveBits"]),
    x2: await pair({ name: "X25519" }, ["deriveBits"]),
  };
}

test("deterministic operations answer exactly as Node's WebCrypto", async () => {
  const m = await material();
  const out = await same(`${HELPERS} const M = ${JSON.stringify(m)};
    const r = {};
    const aesRaw = new Uint8Array(32).map((_, i) => i);
    const iv = new Uint8Array(16).map((_, i) => 100 + i);
    for (const [name, params] of [["AES-GCM", { iv: iv.slice(0, 12), additionalData: enc.encode("ad"), tagLength: 96 }], ["AES-CBC", { iv }], ["AES-CTR", { counter: iv, length: 64 }]]) {
      const k = await crypto.subtle.importKey("raw", aesRaw, { name }, true, ["encrypt", "decrypt"]);
      const ct = await crypto.subtle.encrypt({ name, ...params }, k, data);
      r[name] = [hex(ct), new TextDecoder().decode(await crypto.subtle.decrypt({ name, ...params }, k, ct)), (await crypto.subtle.exportKey("jwk", k)).alg];
    }
    const kw = await crypto.subtle.importKey("raw", aesRaw.slice(0, 16), "AES-KW", true, ["wrapKey", "unwrapKey"]);
    const inner = await crypto.subtle.importKey("raw", aesRaw, "AES-GCM", true, ["encrypt"]);
    const wrapped = await crypto.subtle.wrapKey("raw", inner, kw, "AES-KW");
    const unwrapped = await crypto.subtle.unwrapKey("raw", wrapped, kw, "AES-KW", "AES-GCM", true, ["encrypt"]);
    r.kw = [hex(wrapped), hex(await crypto.subtle.exportKey("raw", unwrapped)), unwrapped.algorithm];
    for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
      const h = await crypto.subtle.importKey("raw", enc.encode("secret"), { name: "HMAC", hash }, true, ["sign", "verify"]);
      const sig = await crypto.subtle.sign("HMAC", h, data);
      r["hmac-" + hash] = [hex(sig), await crypto.subtle.verify("HMAC", h, sig, data), hex(await crypto.subtle.digest(hash, data)), (await crypto.subtle.exportKey("jwk", h)).alg];
    }
    const pb = await crypto.subtle.importKey("raw", enc.encode("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
    r.pbkdf2 = hex(await crypto.subtle.deriveBits({ name: "PBKDF2", salt: enc.encode("salt"), iterations: 1000, hash: "SHA-256" }, pb, 256));
    const dk = await crypto.subtle.deriveKey({ name: "PBKDF2", salt: enc.encode("salt"), iterations: 10, hash: "SHA-1" }, pb, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
    r.deriveKey = [hex(await crypto.subtle.exportKey("raw", dk)), dk.algorithm, dk.usages];
    const hk = await crypto.subtle.importKey("raw", enc.encode("ikm"), "HKDF", false, ["deriveBits"]);
    r.hkdf = hex(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-384", salt: enc.encode("s"), info: enc.encode("i") }, hk, 384));
    const imp = (f, d, alg, u) => crypto.subtle.importKey(f, f === "jwk" ? d : b64(d), alg, true, u);
    const rsaAlg = (name) => ({ name, hash: "SHA-256" });
    const p1 = await imp("pkcs8", M.pkcs1.pkcs8, rsaAlg("RSASSA-PKCS1-v1_5"), ["sign"]);
    const p1pub = await imp("spki", M.pkcs1.spki, rsaAlg("RSASSA-PKCS1-v1_5"), ["verify"]);
    const p1sig = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", p1, data);
    r.pkcs1 = [hex(p1sig), await crypto.subtle.verify("RSASSA-PKCS1-v1_5", p1pub, p1sig, data), p1pub.algorithm.modulusLength, hex(p1pub.algorithm.publicExponent)];
    const ed = await imp("pkcs8", M.ed.pkcs8, "Ed25519", ["sign"]);
    const edJwk = await imp("jwk", M.ed.jwk, "Ed25519", ["sign"]);
    r.ed = [hex(await crypto.subtle.sign("Ed25519", ed, data)), hex(await crypto.subtle.sign("Ed25519", edJwk, data))];
    const e1 = await imp("pkcs8", M.ecdh1.pkcs8, { name: "ECDH", namedCurve: "P-384" }, ["deriveBits"]);
    const e2pub = await imp("spki", M.ecdh2.spki, { name: "ECDH", namedCurve: "P-384" }, []);
    r.ecdh = hex(await crypto.subtle.deriveBits({ name: "ECDH", public: e2pub }, e1, 384));
    const x1 = await imp("pkcs8", M.x1.pkcs8, "X25519", ["deriveBits"]);
    const x2pub = await imp("spki", M.x2.spki, "X25519", []);
    r.x25519 = hex(await crypto.subtle.deriveBits({ name: "X25519", public: x2pub }, x1, 256));
    const ecJwk = await imp("jwk", M.ecdsa.jwk, { name: "ECDSA", namedCurve: "P-256" }, ["sign"]);
    r.exports = [await crypto.subtle.exportKey("jwk", ecJwk), hex(await crypto.subtle.exportKey("pkcs8", ecJwk)), hex(await crypto.subtle.exportKey("spki", x2pub)), hex(await crypto.subtle.exportKey("raw", e2pub))];
    const errs = [];
    for (const f of [() => crypto.subtle.importKey("raw", new Uint8Array(5), "AES-GCM", false, ["encrypt"]), () => crypto.subtle.exportKey("jwk", e1).then(() => crypto.subtle.sign("ECDSA", e1, data)),
      () => crypto.subtle.importKey("pkcs8", new Uint8Array(10), "Ed25519", false, ["sign"]), () => crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, p1, data)]) {
      try { await f(); errs.push("none"); } catch (e) { errs.push(e.name); }
    }
    r.errs = errs;
    return r;`);
  assert.equal(out.errs.length, 4);
});

test("what the guest signs, encrypts and generates, Node accepts (randomised algorithms)", async () => {
  const m = await material();
  const out = await inGuest(`${HELPERS} const M = ${JSON.stringify(m)};
    const imp = (f, d, alg, u) => crypto.subtle.importKey(f, f === "jwk" ? d : b64(d), alg, true, u);
    const pss = await imp("pkcs8", M.pss.pkcs8, { name: "RSA-PSS", hash: "SHA-256" }, ["sign"]);
    const ecdsa = await imp("jwk", M.ecdsa.jwk, { name: "ECDSA", namedCurve: "P-256" }, ["sign"]);
    const oaepPub = await imp("spki", M.oaep.spki, { name: "RSA-OAEP", hash: "SHA-256" }, ["encrypt"]);
    const gen = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"]);
    const rsaGen = await crypto.subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" }, false, ["encrypt", "decrypt"]);
    const rsaCt = await crypto.subtle.encrypt({ name: "RSA-OAEP" }, rsaGen.publicKey, data);
    let extract; try { await crypto.subtle.exportKey("pkcs8", rsaGen.privateKey); } catch (e) { extract = e.name; }
    return {
      pss: hex(await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, pss, data)),
      ecdsa: hex(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ecdsa, data)),
      oaep: hex(await crypto.subtle.encrypt({ name: "RSA-OAEP", label: enc.encode("L") }, oaepPub, data)),
      genPub: await crypto.subtle.exportKey("jwk", gen.publicKey),
      genSig: hex(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-384" }, gen.privateKey, data)),
      rsaRound: new TextDecoder().decode(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, rsaGen.privateKey, rsaCt)),
      extract, kinds: [gen.publicKey.type, gen.privateKey.type, gen.privateKey.extractable, rsaGen.privateKey.extractable, gen.publicKey instanceof CryptoKey],
      opaque: Object.keys(gen.privateKey).sort(),
    };`);
  const data = new TextEncoder().encode("the quick brown fox");
  const h = (s: string) => Buffer.from(s, "hex");
  const pssPub = await subtle.importKey("spki", Buffer.from(m.pss.spki, "base64"), { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
  assert.ok(await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pssPub, h(out.pss), data));
  const ecPub = await subtle.importKey("spki", Buffer.from(m.ecdsa.spki, "base64"), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  assert.ok(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ecPub, h(out.ecdsa), data));
  const oaepPriv = await subtle.importKey("pkcs8", Buffer.from(m.oaep.pkcs8, "base64"), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]);
  assert.equal(Buffer.from(await subtle.decrypt({ name: "RSA-OAEP", label: new TextEncoder().encode("L") }, oaepPriv, h(out.oaep))).toString(), "the quick brown fox");
  const genPub = await subtle.importKey("jwk", out.genPub, { name: "ECDSA", namedCurve: "P-384" }, false, ["verify"]);
  assert.ok(await subtle.verify({ name: "ECDSA", hash: "SHA-384" }, genPub, h(out.genSig), data));
  assert.equal(out.rsaRound, "the quick brown fox");
  assert.equal(out.extract, "InvalidAccessError");
  assert.deepEqual(out.kinds, ["public", "private", true, false, true]);
  assert.deepEqual(out.opaque, ["algorithm", "extractable", "type", "usages"]);
});

test("keys do not cross instances, and work caps refuse before the work", async () => {
  const out = await inGuest(`const errs = [];
    for (const f of [
      () => crypto.subtle.generateKey({ name: "RSA-PSS", modulusLength: 16384, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign"]),
      async () => { const k = await crypto.subtle.importKey("raw", new Uint8Array(8), "PBKDF2", false, ["deriveBits"]); return crypto.subtle.deriveBits({ name: "PBKDF2", salt: new Uint8Array(8), iterations: 1e9, hash: "SHA-256" }, k, 256); },
      () => crypto.subtle.sign("HMAC", {}, new Uint8Array(1)),
      () => crypto.subtle.timingSafeEqual(new Uint8Array(2), new Uint8Array(3)),
    ]) { try { await f(); errs.push("none"); } catch (e) { errs.push(e.name + ": " + e.message); } }
    return { errs, eq: [crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), crypto.subtle.timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))] };`);
  assert.match(out.errs[0], /^NotSupportedError: RSA modulusLength over 8192/);
  assert.match(out.errs[1], /^NotSupportedError: PBKDF2 iterations over/);
  assert.match(out.errs[2], /^TypeError: .*CryptoKey/);
  assert.match(out.errs[3], /^TypeError: timingSafeEqual/);
  assert.deepEqual(out.eq, [true, false]);
});
