// JWKS fetching in Node against a loopback server: single flight, rotation, cooldown,
// last-known-good then fail-closed, export/import, KV persistence, HTTPS-only, caps, timeouts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createValidator } from "../src/index.js";
import { AUD, OTHER_TID, TID, jwks, jwksServer, mint, v2Claims } from "./helpers.mjs";

const options = (server, extra = {}) => ({
  tenants: [TID], audiences: [AUD], jwksUri: server.url, allowInsecureLoopback: true, ...extra,
});

test("1000 parallel validations on a cold cache cause exactly one jwks fetch", async () => {
  const server = await jwksServer(jwks("a"));
  const v = createValidator(options(server));
  const tokens = Array.from({ length: 1000 }, () => mint(v2Claims()));
  const results = await Promise.all(tokens.map((t) => v.validate(t)));
  server.close();
  assert.equal(server.state.hits, 1);
  assert.ok(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok)));
});

test("rotation fetches the new kid once and refuses the removed key", async () => {
  const server = await jwksServer(jwks("a"));
  const v = createValidator(options(server));
  const old = mint(v2Claims());
  assert.equal((await v.validate(old)).ok, true);
  server.set(jwks("b"));
  const fresh = await Promise.all([1, 2, 3].map(() => v.validate(mint(v2Claims(), { kid: "b" }))));
  assert.ok(fresh.every((r) => r.ok));
  assert.equal(server.state.hits, 2);
  // The verdict cached for the old token died with its key.
  assert.equal((await v.validate(old)).code, "key_not_found");
  server.close();
});

test("a storm of unknown kids causes one fetch per cooldown", async () => {
  const server = await jwksServer(jwks("a"));
  const v = createValidator(options(server));
  await v.validate(mint(v2Claims()));
  const storm = Array.from({ length: 500 }, (_, i) => mint(v2Claims(), { kid: `made-up-${i}` }));
  const results = await Promise.all(storm.map((t) => v.validate(t)));
  server.close();
  assert.ok(results.every((r) => r.code === "key_not_found"));
  assert.equal(server.state.hits, 2);
});

test("a key removed from the jwks is refused about an hour later, not a day", async () => {
  // Entra docs signing-key-rollover.md (REFERENCE.md §6): refresh every hour in the background.
  const server = await jwksServer(jwks("a", "b"));
  let clock = Date.now();
  const v = createValidator(options(server, { now: () => clock }));
  const exp = Math.floor(clock / 1000) + 2 * 86400;
  const old = mint(v2Claims({ exp }));
  assert.equal((await v.validate(old)).ok, true);
  clock += 600_000;
  server.set(jwks("b")); // Microsoft withdraws key "a"
  clock += 50 * 60_000; // 60 min after the fetch: still trusted, no fetch yet
  assert.equal((await v.validate(mint(v2Claims({ exp })))).ok, true);
  assert.equal(server.state.hits, 1);
  clock += 10 * 60_000 + 1000; // past the hour: used once more while the refresh runs
  assert.equal((await v.validate(mint(v2Claims({ exp })))).ok, true);
  for (let i = 0; i < 100 && server.state.hits < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.state.hits, 2, "background refresh");
  const r = await v.validate(old);
  assert.equal(r.code, "key_not_found", "the cached verdict died with the key");
  assert.equal((await v.validate(mint(v2Claims({ exp }), { kid: "b" }))).ok, true);
  server.close();
});

test("last-known-good keys serve while the endpoint fails, then validation fails closed", async () => {
  const server = await jwksServer(jwks("a"));
  let clock = Date.now();
  const v = createValidator(options(server, {
    now: () => clock,
    jwksCache: { maxAgeSeconds: 100, refreshIntervalSeconds: 10, lastKnownGoodSeconds: 60, retryAfterFailureSeconds: 5 },
  }));
  assert.equal((await v.validate(mint(v2Claims()))).ok, true);
  server.state.mode = "fail";
  clock += 101_000; // stale: the refresh fails, last-known-good answers
  assert.equal((await v.validate(mint(v2Claims()))).ok, true);
  clock += 50_000;
  assert.equal((await v.validate(mint(v2Claims()))).ok, true);
  clock += 20_000; // past max age + last-known-good
  const r = await v.validate(mint(v2Claims()));
  assert.equal(r.code, "jwks_unavailable");
  assert.equal(r.status, 401);
  server.state.mode = "ok";
  clock += 10_000;
  assert.equal((await v.validate(mint(v2Claims()))).ok, true);
  server.close();
});

test("exported cache state lets a fresh validator start without fetching", async () => {
  const server = await jwksServer(jwks("a"));
  const first = createValidator(options(server));
  await first.validate(mint(v2Claims()));
  const state = first.exportCache();
  const second = createValidator(options(server));
  assert.equal(second.importCache(state), true);
  assert.equal((await second.validate(mint(v2Claims()))).ok, true);
  assert.equal(server.state.hits, 1);
  server.close();
});

test("a kv-style cache store shares keys between instances", async () => {
  const server = await jwksServer(jwks("a"));
  const store = new Map();
  const kv = { get: async (k) => store.get(k) ?? null, put: async (k, val) => { store.set(k, val); } };
  await createValidator(options(server, { cache: kv })).validate(mint(v2Claims()));
  assert.equal(store.size, 1);
  const again = createValidator(options(server, { cache: kv }));
  assert.equal((await again.validate(mint(v2Claims()))).ok, true);
  assert.equal(server.state.hits, 1);
  server.close();
});

test("jwks uri must be https unless loopback http is explicitly allowed", () => {
  const base = { tenants: [TID], audiences: [AUD] };
  assert.throws(() => createValidator({ ...base, jwksUri: "http://example.com/keys" }), /https/);
  assert.throws(() => createValidator({ ...base, jwksUri: "http://127.0.0.1:1/keys" }), /https/);
  assert.ok(createValidator({ ...base, jwksUri: "http://127.0.0.1:1/keys", allowInsecureLoopback: true }));
});

test("redirects, oversized bodies and hung endpoints are fetch failures", async () => {
  for (const mode of ["redirect", "huge", "hang", "fail"]) {
    const server = await jwksServer(jwks("a"));
    server.state.mode = mode;
    const v = createValidator(options(server, { fetchTimeoutMs: 300 }));
    const r = await v.validate(mint(v2Claims()));
    assert.equal(r.code, "jwks_unavailable", mode);
    server.close();
  }
});

test("validateSync never fetches: a cold cache is jwks_unavailable", () => {
  const v = createValidator({ tenants: [TID], audiences: [AUD], jwksUri: "https://login.example/keys" });
  assert.equal(v.validateSync(mint(v2Claims())).code, "jwks_unavailable");
});

test("a cached verdict is not served after the token expires", async () => {
  const server = await jwksServer(jwks("a"));
  let clock = Date.now();
  const v = createValidator(options(server, { now: () => clock, clockSkewSeconds: 0 }));
  const token = mint(v2Claims({ exp: Math.floor(clock / 1000) + 30 }));
  assert.equal((await v.validate(token)).ok, true);
  clock += 31_000;
  assert.equal((await v.validate(token)).code, "token_expired");
  server.close();
});

test("tenants any: an issuer-less key is refused unless read from the token's tenant's own jwks", async () => {
  // REFERENCE.md §6: the key's own issuer proves its tenant; v1 documents (.../discovery/keys) have none.
  const server = await jwksServer(jwks("ec")); // the test EC key carries no issuer
  const any = (jwksUri) => createValidator({ tenants: "any", audiences: [AUD], jwksUri, allowInsecureLoopback: true });
  const token = mint(v2Claims(), { kid: "ec" });
  const common = await any(server.url).validate(token);
  assert.equal(common.code, "key_issuer_mismatch");
  const own = server.url.replace("/keys", `/${TID}/discovery/keys`);
  assert.equal((await any(own).validate(token)).ok, true);
  const other = server.url.replace("/keys", `/${OTHER_TID}/discovery/keys`);
  assert.equal((await any(other).validate(token)).code, "key_issuer_mismatch");
  // A tenant allow-list binds the tenant already.
  assert.equal((await createValidator(options(server)).validate(token)).ok, true);
  server.close();
});
