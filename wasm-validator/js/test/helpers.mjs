// Test fixtures shared by the Node, workerd and Deno suites: the core's test-only keys
// (wasm-validator/core/testdata), a token minter and a loopback JWKS server.
import { createPrivateKey, createPublicKey, sign, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Buffer } from "node:buffer";

const testdata = (name) =>
  readFileSync(new URL(`../../core/testdata/${name}`, import.meta.url), "utf8");

export const KEYS = {
  a: createPrivateKey(testdata("rsa2048-a.pem")),
  b: createPrivateKey(testdata("rsa2048-b.pem")),
  ec: createPrivateKey(testdata("p256-a.pem")),
};
export const TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
export const OTHER_TID = "11111111-2222-3333-4444-555555555555";
export const AUD = "api://entrawatch-test";
export const CLIENT = "0b1c2d3e-0000-4000-8000-00000000c11e";
export const now = () => Math.floor(Date.now() / 1000);

export function jwk(kid) {
  const pub = createPublicKey(KEYS[kid]).export({ format: "jwk" });
  const extra = kid === "ec" ? {} : { issuer: "https://login.microsoftonline.com/{tenantid}/v2.0" };
  return { ...pub, kid, use: "sig", ...extra };
}

export const jwks = (...kids) => ({ keys: kids.map(jwk) });

export function v2Claims(extra = {}) {
  const t = now();
  return {
    aud: AUD, iss: `https://login.microsoftonline.com/${TID}/v2.0`,
    iat: t - 60, nbf: t - 60, exp: t + 3600, tid: TID,
    oid: "aaaaaaaa-0000-4000-8000-000000000001", sub: "user-subject",
    azp: CLIENT, scp: "Alerts.Read User.Read", ver: "2.0",
    jti: Math.random().toString(36).slice(2), ...extra,
  };
}

export function v1AppClaims(extra = {}) {
  const t = now();
  const oid = "aaaaaaaa-0000-4000-8000-000000000002";
  return {
    aud: AUD, iss: `https://sts.windows.net/${TID}/`, iat: t - 60, nbf: t - 60, exp: t + 3600,
    tid: TID, oid, sub: oid, appid: CLIENT, roles: ["Alerts.Write"], idtyp: "app", ver: "1.0",
    ...extra,
  };
}

const b64 = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** Mints a compact JWS; `header` overrides, `rawHeader`/`rawPayload` bypass JSON.stringify. */
export function mint(claims, { kid = "a", alg, header = {}, rawHeader, rawPayload, key } = {}) {
  const a = alg ?? (kid === "ec" ? "ES256" : "RS256");
  const h = rawHeader ?? b64({ alg: a, typ: "JWT", kid, ...header });
  const input = `${h}.${rawPayload ?? b64(claims)}`;
  const k = key ?? KEYS[kid] ?? KEYS.a;
  let sig;
  if (a === "RS256") sig = sign("sha256", Buffer.from(input), k);
  else if (a === "PS256") sig = sign("sha256", Buffer.from(input), { key: k, padding: 6, saltLength: 32 });
  else if (a === "ES256") sig = sign("sha256", Buffer.from(input), { key: k, dsaEncoding: "ieee-p1363" });
  else if (a === "HS256") sig = createHmac("sha256", JSON.stringify(jwk("a"))).update(input).digest();
  else sig = Buffer.alloc(0);
  return `${input}.${sig.toString("base64url")}`;
}

/** A JWKS server on 127.0.0.1 whose behaviour tests change on the fly. */
export async function jwksServer(initial) {
  const state = { body: JSON.stringify(initial), hits: 0, mode: "ok" };
  const server = createServer((req, res) => {
    state.hits++;
    if (state.mode === "fail") return res.writeHead(500).end("down");
    if (state.mode === "hang") return; // never answers
    if (state.mode === "redirect") return res.writeHead(302, { location: "/keys" }).end();
    if (state.mode === "huge") return res.writeHead(200).end(" ".repeat(70 * 1024) + state.body);
    res.writeHead(200, { "content-type": "application/json" }).end(state.body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/keys`;
  return {
    url, state,
    set: (value) => { state.body = JSON.stringify(value); },
    close: () => { server.closeAllConnections?.(); server.close(); },
  };
}
