// Deno smoke test: the package loads, validates with node:crypto, refuses, and fetches a JWKS
// once from a loopback server. Exits non-zero on any failure.
import { createValidator, verifyJws } from "../src/index.js";
import { AUD, TID, jwks, jwksServer, mint, v2Claims } from "./helpers.mjs";

function check(cond, what) {
  if (!cond) throw new Error(`deno smoke: ${what}`);
}

const staticV = createValidator({ tenants: [TID], audiences: [AUD], jwks: jwks("a", "ec") });
const good = await staticV.validate(mint(v2Claims()));
check(good.ok && good.principal.tid === TID, `valid token accepted (${JSON.stringify(good)})`);
check((await staticV.validate(mint(v2Claims(), { kid: "ec" }))).ok, "ES256 accepted");
check((await staticV.validate(mint(v2Claims(), { alg: "none" }))).code === "unsupported_algorithm", "alg none refused");
check(verifyJws(mint(v2Claims()), jwks("a")).ok, "verifyJws");

const server = await jwksServer(jwks("a"));
const fetched = createValidator({ tenants: [TID], audiences: [AUD], jwksUri: server.url, allowInsecureLoopback: true });
const results = await Promise.all(Array.from({ length: 100 }, () => fetched.validate(mint(v2Claims()))));
server.close();
check(results.every((r) => r.ok), `fetched keys validate (${JSON.stringify(results[0])})`);
check(server.state.hits === 1, `one fetch, saw ${server.state.hits}`);
console.log("deno smoke: ok");
