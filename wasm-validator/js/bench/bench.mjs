// Benchmark (not a test): one Node process, RS256 2048-bit, keys already loaded.
//   new token: every library validates the same fresh tokens, block by block, in interleaved
//              alternation (the order rotates every round), so load on the machine hits all alike.
//   repeated token: the same token again (verified-token caches), interleaved the same way.
// Prints µs per validation, the ratios to fast-jwt, the gzipped .wasm size and a workerd figure.
// Run: node bench/bench.mjs  (after scripts/test-validator.sh has built pkg/); BENCH_N, BENCH_BLOCK.
import { createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createLocalJWKSet, jwtVerify } from "jose";
import { createVerifier } from "fast-jwt";
import { Miniflare } from "miniflare";
import { createValidator } from "../src/index.js";
import { AUD, KEYS, TID, jwks, mint, v2Claims } from "../test/helpers.mjs";
import { workerdOptions } from "../test/workerd-options.mjs";
import { interleaved, must, table } from "./interleave.mjs";

const N = Number(process.env.BENCH_N ?? 4000);
const BLOCK = Number(process.env.BENCH_BLOCK ?? 5);
const keySet = jwks("a");
const issuer = `https://login.microsoftonline.com/${TID}/v2.0`;

const pub = createPublicKey(KEYS.a);
const joseKeys = createLocalJWKSet(keySet);
const fastOpts = { key: pub.export({ format: "pem", type: "spki" }), algorithms: ["RS256"], allowedAud: AUD, allowedIss: issuer };
const fastCold = createVerifier({ ...fastOpts, cache: false });
const fastCached = createVerifier({ ...fastOpts, cache: true });
const entraSync = createValidator({ tenants: [TID], audiences: [AUD], jwks: keySet });
const entraAsync = createValidator({ tenants: [TID], audiences: [AUD], jwks: keySet });

// Each path takes a token and returns once it is validated (async paths are awaited).
const NEW = {
  "raw node crypto.verify (floor)": (t) => {
    const d = t.lastIndexOf(".");
    must(verify("sha256", Buffer.from(t.slice(0, d)), pub, Buffer.from(t.slice(d + 1), "base64url")), "verify");
  },
  "entrawatch validateSync": (t) => must(entraSync.validateSync(t).ok, "validateSync"),
  "entrawatch validate (async)": async (t) => must((await entraAsync.validate(t)).ok, "validate"),
  "fast-jwt (no cache)": (t) => must(fastCold(t), "fast-jwt"),
  "jose jwtVerify": async (t) => must(await jwtVerify(t, joseKeys, { issuer, audience: AUD }), "jose"),
};
const REPEATED = {
  "entrawatch validateSync": (t) => must(entraSync.validateSync(t).ok, "warm validateSync"),
  "entrawatch validate (async)": async (t) => must((await entraAsync.validate(t)).ok, "warm validate"),
  "fast-jwt (its cache)": (t) => must(fastCached(t), "fast-jwt cached"),
};

const fresh = (n) => Array.from({ length: n }, () => mint(v2Claims()));
await interleaved(NEW, fresh(400), BLOCK); // warm-up: JIT, key import, wasm tiering
const newToken = await interleaved(NEW, fresh(N), BLOCK);
const one = mint(v2Claims());
await interleaved(REPEATED, Array(2000).fill(one), BLOCK * 10);
const repeated = await interleaved(REPEATED, Array(N * 10).fill(one), BLOCK * 10);

// workerd: time is frozen inside a request (Spectre mitigation), so measure from outside:
// (round trip with n tokens - round trip with none) / n, on a warmed isolate, entrawatch and jose
// alternating on the same fresh tokens. This includes posting the tokens into workerd, so it
// overstates both alike.
async function workerd() {
  const mf = new Miniflare(workerdOptions("bench/workerd-bench-harness.mjs"));
  const options = { tenants: [TID], audiences: [AUD], jwks: keySet };
  const call = async (mode, list) => {
    const body = JSON.stringify({ mode, options, issuer, tokens: list });
    const t = process.hrtime.bigint();
    const r = await (await mf.dispatchFetch("http://bench/", { method: "POST", body })).json();
    must(r.ok === list.length, `workerd ${mode}`);
    return Number(process.hrtime.bigint() - t) / 1000;
  };
  const modes = ["entrawatch", "jose"];
  for (const m of modes) await call(m, fresh(200));
  const total = { entrawatch: 0, jose: 0 };
  const empty = { entrawatch: 0, jose: 0 };
  const n = Math.min(N, 2000);
  const rounds = 10;
  for (let r = 0; r < rounds; r++) {
    const list = fresh(n / rounds);
    for (const m of r % 2 ? modes : [...modes].reverse()) {
      empty[m] += await call(m, []);
      total[m] += await call(m, list);
    }
  }
  const warm = ((await call("entrawatch", Array(n).fill(one))) - (await call("entrawatch", []))) / n;
  await mf.dispose();
  const per = (m) => (total[m] - empty[m]) / n;
  return { cold: per("entrawatch"), jose: per("jose"), warm };
}
let wd;
try {
  wd = await workerd();
} catch (e) {
  console.error(`workerd figure skipped: ${e.message}`);
}

const f = (x) => x.toFixed(2);
const fastNew = newToken["fast-jwt (no cache)"];
const fastRep = repeated["fast-jwt (its cache)"];
console.log(`\nRS256 2048-bit, Node ${process.version}, ${N} fresh tokens in blocks of ${BLOCK}, interleaved\n`);
console.log(table("new token", newToken, fastNew, "fast-jwt (no cache)"));
console.log(`\n${table(`repeated token (${N * 10} calls)`, repeated, fastRep, "fast-jwt (its cache)")}`);
if (wd) {
  console.log(`\nworkerd (miniflare; from outside, includes posting the tokens), new token: entrawatch ${f(wd.cold)} µs, ` +
    `jose ${f(wd.jose)} µs (${f(wd.cold / wd.jose)}x jose); repeated token: entrawatch ${f(wd.warm)} µs`);
}
const wasm = readFileSync(new URL("../pkg/entrawatch_validator_wasm_bg.wasm", import.meta.url));
const gz = gzipSync(wasm, { level: 9 }).length;
console.log(`\n.wasm: ${wasm.length} bytes, ${gz} bytes gzipped (target <= 153600)`);
const ratio = newToken["entrawatch validateSync"] / fastNew;
const warmRatio = repeated["entrawatch validateSync"] / fastRep;
console.log(`targets: new token <= 1.0x fast-jwt: ${f(ratio)}x ${ratio <= 1 ? "met" : "MISSED"}; ` +
  `repeated <= 0.5x fast-jwt cached: ${f(warmRatio)}x ${warmRatio <= 0.5 ? "met" : "MISSED"}; ` +
  `.wasm <= 150 KB gzipped: ${gz <= 153600 ? "met" : "MISSED"}`);
