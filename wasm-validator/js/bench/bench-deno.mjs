// Deno figures beside jose (not a test): node_modules/.bin/deno run --allow-read bench/bench-deno.mjs
// entrawatch (node:crypto through Deno's Node compatibility) and jose (WebCrypto) on the same fresh
// RS256 2048-bit tokens, interleaved as in bench.mjs.
import { createLocalJWKSet, jwtVerify } from "../node_modules/jose/dist/webapi/index.js";
import { createValidator } from "../src/index.js";
import { AUD, TID, jwks, mint, v2Claims } from "../test/helpers.mjs";
import { interleaved, must, table } from "./interleave.mjs";

const N = Number(Deno.env.get("BENCH_N") ?? 2000);
const keySet = jwks("a");
const issuer = `https://login.microsoftonline.com/${TID}/v2.0`;
const joseKeys = createLocalJWKSet(keySet);
const sync = createValidator({ tenants: [TID], audiences: [AUD], jwks: keySet });
const async_ = createValidator({ tenants: [TID], audiences: [AUD], jwks: keySet });
const paths = {
  "entrawatch validateSync": (t) => must(sync.validateSync(t).ok, "validateSync"),
  "entrawatch validate (async)": async (t) => must((await async_.validate(t)).ok, "validate"),
  "jose jwtVerify": async (t) => must(await jwtVerify(t, joseKeys, { issuer, audience: AUD }), "jose"),
};
const fresh = (n) => Array.from({ length: n }, () => mint(v2Claims()));
await interleaved(paths, fresh(300));
const r = await interleaved(paths, fresh(N));
console.log(`\nDeno ${Deno.version.deno}, ${N} fresh tokens, interleaved\n`);
console.log(table("new token (Deno)", r, r["jose jwtVerify"], "jose"));
