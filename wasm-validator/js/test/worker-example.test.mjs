// The example Worker (examples/worker.js) in workerd: forwards identity, refuses with 401/403.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { AUD, TID, jwks, mint, v2Claims } from "./helpers.mjs";
import { workerdOptions } from "./workerd-options.mjs";

const seen = [];
const mf = new Miniflare(workerdOptions("examples/worker.js", {
  bindings: {
    ORIGIN_URL: "https://origin.test", ENTRA_TENANTS: TID, ENTRA_AUDIENCES: AUD,
    REQUIRED_SCOPES: "Alerts.Read",
  },
  kvNamespaces: ["JWKS_CACHE"],
  outboundService: async (request) => {
    const url = new URL(request.url);
    if (url.hostname === "login.microsoftonline.com") return Response.json(jwks("a"));
    seen.push(Object.fromEntries(request.headers));
    return new Response("from origin");
  },
}));
after(() => mf.dispose());

const call = (headers) => mf.dispatchFetch("https://api.test/alerts?x=1", { headers });

test("worker forwards a valid request with identity headers, replacing spoofed ones", async () => {
  const res = await call({ authorization: `Bearer ${mint(v2Claims())}`, "x-entra-oid": "spoofed" });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "from origin");
  const forwarded = seen.at(-1);
  assert.equal(forwarded["x-entra-oid"], "aaaaaaaa-0000-4000-8000-000000000001");
  assert.equal(forwarded["x-entra-tid"], TID);
  assert.equal(forwarded["x-entra-app-only"], "false");
});

test("worker answers 401 without a token and with a bad one", async () => {
  const bare = await call({});
  assert.equal(bare.status, 401);
  assert.equal(bare.headers.get("www-authenticate"), 'Bearer realm="api"');
  const bad = await call({ authorization: `Bearer ${mint(v2Claims({ exp: 1000 }))}` });
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get("www-authenticate"), /error="invalid_token"/);
});

test("worker answers 403 when a required scope is missing", async () => {
  const res = await call({ authorization: `Bearer ${mint(v2Claims({ scp: "User.Read" }))}` });
  assert.equal(res.status, 403);
  assert.match(res.headers.get("www-authenticate"), /error="insufficient_scope"/);
});
