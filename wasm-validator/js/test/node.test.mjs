// The package in Node: results per SPEC.md, every claim rule, and the attack classes of
// REFERENCE.md §7 (static JWKS; fetching is in node-jwks.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import { Buffer } from "node:buffer";
import { createValidator, verifyJws } from "../src/index.js";
import { HostCrypto } from "../src/host-crypto.js";
import { AUD, CLIENT, OTHER_TID, TID, jwk, jwks, mint, v1AppClaims, v2Claims } from "./helpers.mjs";

const base = { tenants: [TID], audiences: [AUD], jwks: jwks("a", "ec") };
const v = createValidator(base);
const refused = async (token, code, validator = v) => {
  const r = await validator.validate(token);
  assert.equal(r.ok, false, `expected ${code}`);
  assert.equal(r.code, code);
  return r;
};

test("valid v2 user token yields claims and principal", async () => {
  const r = await v.validate(mint(v2Claims()));
  assert.equal(r.ok, true);
  assert.equal(r.claims.aud, AUD);
  assert.deepEqual(r.principal, {
    oid: "aaaaaaaa-0000-4000-8000-000000000001", tid: TID, appId: CLIENT,
    appOnly: false, scopes: ["Alerts.Read", "User.Read"], roles: [],
  });
});

test("authorization header value is accepted", async () => {
  assert.equal((await v.validate(`Bearer ${mint(v2Claims())}`)).ok, true);
});

test("v1 app-only token is recognised as app-only", async () => {
  const r = await v.validate(mint(v1AppClaims()));
  assert.equal(r.ok, true);
  assert.equal(r.principal.appOnly, true);
  assert.deepEqual(r.principal.roles, ["Alerts.Write"]);
});

test("ps256 and es256 tokens are accepted", async () => {
  assert.equal((await v.validate(mint(v2Claims(), { alg: "PS256" }))).ok, true);
  assert.equal((await v.validate(mint(v2Claims(), { kid: "ec" }))).ok, true);
});

test("validateSync gives the same verdicts", () => {
  assert.equal(v.validateSync(mint(v2Claims())).ok, true);
  assert.equal(v.validateSync(mint(v2Claims({ aud: "x" }))).code, "audience_invalid");
});

test("expired token answers 401 with an RFC 6750 challenge", async () => {
  const r = await refused(mint(v2Claims({ exp: 1000 })), "token_expired");
  assert.equal(r.status, 401);
  assert.match(r.wwwAuthenticate, /^Bearer error="invalid_token", error_description="[^"]+"$/);
});

test("claim rules refuse with their codes", async () => {
  await refused(mint(v2Claims({ nbf: Math.floor(Date.now() / 1000) + 600 })), "token_not_yet_valid");
  await refused(mint(v2Claims({ iss: "https://evil.example/" })), "issuer_invalid");
  await refused(mint(v2Claims({ aud: "api://other" })), "audience_invalid");
  await refused(mint(v2Claims({ tid: OTHER_TID, iss: `https://login.microsoftonline.com/${OTHER_TID}/v2.0` })), "tenant_not_allowed");
  await refused(mint(v2Claims({ aud: "https://graph.microsoft.com" })), "graph_token_not_verifiable");
  await refused(mint(v2Claims(), { header: { nonce: "x" } }), "graph_token_not_verifiable");
});

test("missing scope answers 403 insufficient_scope", async () => {
  const strict = createValidator({ ...base, requiredScopes: ["Alerts.Write"] });
  const r = await refused(mint(v2Claims()), "insufficient_scope", strict);
  assert.equal(r.status, 403);
  assert.match(r.wwwAuthenticate, /error="insufficient_scope"/);
});

test("client app outside the allow-list is refused", async () => {
  const only = createValidator({ ...base, allowedClientApps: ["someone-else"] });
  await refused(mint(v2Claims()), "client_not_allowed", only);
});

test("key issuer of another tenant is refused", async () => {
  const key = { ...jwk("a"), issuer: `https://login.microsoftonline.com/${OTHER_TID}/v2.0` };
  const other = createValidator({ ...base, jwks: { keys: [key] } });
  await refused(mint(v2Claims()), "key_issuer_mismatch", other);
});

test("attack: alg none and empty signature are refused", async () => {
  await refused(mint(v2Claims(), { alg: "none" }), "unsupported_algorithm");
  await refused(mint(v2Claims()).replace(/\.[^.]+$/, "."), "signature_invalid");
});

test("attack: hs256 signed with the rsa public key is refused", async () => {
  await refused(mint(v2Claims(), { alg: "HS256" }), "unsupported_algorithm");
});

test("attack: alg not bound to the key type is refused", async () => {
  await refused(mint(v2Claims(), { kid: "a", alg: "ES256", key: (await import("./helpers.mjs")).KEYS.ec }), "unsupported_algorithm");
});

test("attack: header keys are never trusted", async () => {
  const forged = mint(v2Claims(), { kid: "a", key: (await import("./helpers.mjs")).KEYS.b, header: { jwk: jwk("b"), jku: "https://evil.example/k" } });
  await refused(forged, "signature_invalid");
});

test("attack: kid is an opaque capped lookup key", async () => {
  await refused(mint(v2Claims(), { kid: "../../etc/passwd" }), "key_not_found");
  await refused(mint(v2Claims(), { kid: "k".repeat(300) }), "malformed");
});

test("attack: unknown crit, jwe and nested jwt are refused", async () => {
  await refused(mint(v2Claims(), { header: { crit: ["b64"], b64: false } }), "crit_unsupported");
  await refused("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "malformed");
  await refused(mint(v2Claims(), { header: { cty: "JWT" } }), "malformed");
});

test("attack: ecdsa psychic signature is refused", async () => {
  const token = mint(v2Claims(), { kid: "ec" }).replace(/\.[^.]+$/, "." + Buffer.alloc(64).toString("base64url"));
  await refused(token, "signature_invalid");
});

test("attack: non-canonical base64url and duplicate members are refused", async () => {
  await refused(mint(v2Claims()) + "==", "malformed");
  const dupHeader = Buffer.from('{"alg":"RS256","kid":"a","kid":"b"}').toString("base64url");
  await refused(mint(v2Claims(), { rawHeader: dupHeader }), "duplicate_member");
  const claims = JSON.stringify(v2Claims()).slice(0, -1) + ',"aud":"api://other"}';
  await refused(mint(null, { rawPayload: Buffer.from(claims).toString("base64url") }), "duplicate_member");
});

test("attack: oversized token is refused before decoding", async () => {
  await refused("x".repeat(20000), "token_too_large");
});

test("attack: rsa key under 2048 bits is refused", async () => {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const weak = createValidator({ ...base, jwks: { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "w" }] } });
  await refused(mint(v2Claims(), { kid: "w", key: privateKey }), "weak_key", weak);
});

test("attack: numeric dates of the wrong type are refused", async () => {
  await refused(mint(v2Claims({ exp: "9999999999" })), "malformed");
  await refused(mint(v2Claims({ nbf: 1e300 })), "malformed");
});

test("cached verdicts are frozen so one caller cannot alter another's", async () => {
  const token = mint(v2Claims());
  const first = await v.validate(token);
  const second = await v.validate(token);
  assert.equal(first, second);
  assert.throws(() => { "use strict"; second.principal.roles.push("Admin"); });
});

test("verifyJws checks the signature layer only", () => {
  const r = verifyJws(mint(v2Claims({ exp: 1 })), jwks("a"));
  assert.equal(r.ok, true);
  assert.equal(r.payload.exp, 1);
  assert.equal(r.header.kid, "a");
  assert.equal(verifyJws(mint(v2Claims(), { kid: "b" }), jwks("a")).code, "key_not_found");
});

test("wycheproof jws vectors: no invalid accepted, every valid RS256 and ES256 accepted", async () => {
  const { wycheproofCases, tally, asCompact } = await import("./wycheproof-jws.mjs");
  const cases = wycheproofCases();
  const accepted = cases.map((c) => verifyJws(asCompact(c.jws), c.jwks).ok === true);
  const t = tally(cases, accepted);
  console.log(`wycheproof jws (node): ${JSON.stringify({ ...t, invalidAccepted: t.invalidAccepted.length, mustAcceptRefused: t.mustAcceptRefused.length })}`);
  assert.equal(t.total, 401);
  assert.deepEqual(t.invalidAccepted, []);
  assert.ok(t.mustAccept >= 10, `${t.mustAccept} RS256/ES256 valid vectors`);
  assert.deepEqual(t.mustAcceptRefused, []);
});

test("verifyJws accepts any payload bytes and returns payloadBytes; validate still needs JSON claims", async () => {
  for (const payload of [Buffer.from("foo"), Buffer.alloc(0), Buffer.from([0, 255, 1, 128])]) {
    const token = mint(null, { rawPayload: payload.toString("base64url") });
    const r = verifyJws(token, jwks("a"));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.ok(r.payloadBytes instanceof Uint8Array);
    assert.deepEqual(Buffer.from(r.payloadBytes), payload);
    assert.equal(r.payload, undefined);
    assert.equal((await v.validate(token)).code, "malformed");
  }
  const json = verifyJws(mint(v2Claims({ exp: 1 })), jwks("a"));
  assert.equal(json.payload.exp, 1);
  assert.equal(JSON.parse(Buffer.from(json.payloadBytes).toString()).exp, 1);
});

test("host crypto keys its imports by the core's key fingerprint serial, not a key-set position", () => {
  // Two key sets with different keys at position 0: each key is imported under its own serial.
  const host = new HostCrypto({ nodeCrypto, Buffer });
  const core = (serial, kid) => ({ prepared_key: () => serial << 2, prepared_key_jwk: () => JSON.stringify(jwk(kid)) });
  const ta = mint(v2Claims());
  const tb = mint(v2Claims(), { kid: "b" });
  assert.equal(host.verifySync(core(0, "a"), 0, ta), true);
  assert.equal(host.verifySync(core(1, "b"), 0, tb), true);
  assert.equal(host.verifySync(core(0, "a"), 0, tb), false, "b's token never checked with a's key");
  assert.equal(host.keys.size, 2);
});

test("a token validated again and again stays cached while new tokens cycle through the verdict cache", async () => {
  const small = createValidator({ ...base, tokenCacheSize: 4 });
  const hot = mint(v2Claims());
  const first = await small.validate(hot);
  for (let i = 0; i < 20; i++) {
    await small.validate(mint(v2Claims()));
    assert.equal(await small.validate(hot), first, `still the cached verdict after ${i + 1} new tokens`);
  }
  const cold = mint(v2Claims());
  const verdict = await small.validate(cold);
  for (let i = 0; i < 4; i++) await small.validate(mint(v2Claims()));
  assert.notEqual(await small.validate(cold), verdict, "an unused entry is evicted");
});
