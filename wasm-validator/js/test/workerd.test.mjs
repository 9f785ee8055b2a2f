// The package inside workerd via miniflare: WebCrypto signature checks, the .wasm imported as a
// WebAssembly.Module, fetches going out through workerd (answered here by outboundService).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { AUD, TID, jwks, mint, v2Claims } from "./helpers.mjs";
import { workerdOptions } from "./workerd-options.mjs";
import { asCompact, tally, wycheproofCases } from "./wycheproof-jws.mjs";

const outbound = { hits: 0, body: JSON.stringify(jwks("a")) };
const mf = new Miniflare(workerdOptions("test/workerd-harness.mjs", {
  outboundService: async () => {
    outbound.hits++;
    await new Promise((r) => setTimeout(r, outbound.delayMs ?? 0));
    return new Response(outbound.body, { headers: { "content-type": "application/json" } });
  },
}));
after(() => mf.dispose());

async function run(name, tokens, extra = {}) {
  const options = { tenants: [TID], audiences: [AUD], jwksUri: "https://keys.test/keys", ...extra };
  const res = await mf.dispatchFetch("http://harness/", {
    method: "POST",
    body: JSON.stringify({ name, options, tokens }),
  });
  return (await res.json()).results;
}

test("workerd: valid tokens pass and attacks are refused with their codes", async () => {
  const cases = [
    [mint(v2Claims()), true],
    [mint(v2Claims(), { alg: "PS256" }), true],
    [mint(v2Claims(), { kid: "ec" }), true],
    [mint(v2Claims(), { alg: "none" }), "unsupported_algorithm"],
    [mint(v2Claims(), { alg: "HS256" }), "unsupported_algorithm"],
    [mint(v2Claims({ exp: 1000 })), "token_expired"],
    [mint(v2Claims({ aud: "api://other" })), "audience_invalid"],
    [mint(v2Claims(), { header: { crit: ["x"] } }), "crit_unsupported"],
    [mint(v2Claims()).replace(/\.[^.]+$/, ".AAAA"), "signature_invalid"],
    [mint(v2Claims(), { kid: "ec" }).replace(/\.[^.]+$/, "." + Buffer.alloc(64).toString("base64url")), "signature_invalid"],
  ];
  const results = await run("static", cases.map(([t]) => t), { jwks: jwks("a", "ec") });
  cases.forEach(([, want], i) => {
    if (want === true) assert.equal(results[i].ok, true, JSON.stringify(results[i]));
    else assert.equal(results[i].code, want, `case ${i}`);
  });
});

test("workerd: 1000 parallel validations on a cold cache cause one fetch", async () => {
  outbound.hits = 0;
  const tokens = Array.from({ length: 1000 }, () => mint(v2Claims()));
  const results = await run("cold", tokens);
  assert.equal(outbound.hits, 1);
  assert.ok(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok)));
});

test("workerd: concurrent requests on a cold isolate share one fetch", async () => {
  outbound.hits = 0;
  outbound.delayMs = 200;
  const batches = await Promise.all(
    Array.from({ length: 20 }, () => run("cross-request", [1, 2, 3, 4, 5].map(() => mint(v2Claims())))),
  );
  outbound.delayMs = 0;
  assert.equal(outbound.hits, 1);
  assert.ok(batches.flat().every((r) => r.ok), JSON.stringify(batches.flat().find((r) => !r.ok)));
});

test("workerd: rotation fetches the new key once and refuses the removed one", async () => {
  outbound.hits = 0;
  outbound.body = JSON.stringify(jwks("a"));
  const old = mint(v2Claims());
  assert.equal((await run("rotate", [old]))[0].ok, true);
  outbound.body = JSON.stringify(jwks("b"));
  const fresh = await run("rotate", [1, 2, 3].map(() => mint(v2Claims(), { kid: "b" })));
  assert.ok(fresh.every((r) => r.ok));
  assert.equal((await run("rotate", [old]))[0].code, "key_not_found");
  assert.equal(outbound.hits, 2);
});

test("workerd: verifyJws checks the signature layer", async () => {
  const res = await mf.dispatchFetch("http://harness/", {
    method: "POST",
    body: JSON.stringify({ verify: { token: mint(v2Claims({ exp: 1 })), jwks: jwks("a") } }),
  });
  const r = await res.json();
  assert.equal(r.ok, true);
  assert.equal(r.payload.exp, 1);
});

test("workerd: wycheproof jws vectors: no invalid accepted, every valid RS256 and ES256 accepted", async () => {
  const cases = wycheproofCases();
  const res = await mf.dispatchFetch("http://harness/", {
    method: "POST",
    body: JSON.stringify({ verifyMany: cases.map((c) => ({ token: asCompact(c.jws), jwks: c.jwks })) }),
  });
  const t = tally(cases, await res.json());
  console.log(`wycheproof jws (workerd): ${JSON.stringify({ ...t, invalidAccepted: t.invalidAccepted.length, mustAcceptRefused: t.mustAcceptRefused.length })}`);
  assert.equal(t.total, 401);
  assert.deepEqual(t.invalidAccepted, []);
  assert.ok(t.mustAccept >= 10);
  assert.deepEqual(t.mustAcceptRefused, []);
});
