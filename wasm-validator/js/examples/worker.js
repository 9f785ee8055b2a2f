// A Cloudflare Worker that protects an origin with Entra ID access tokens: it validates the
// bearer token, forwards the request with the caller's identity in x-entra-* headers, and answers
// 401/403 with an RFC 6750 challenge otherwise.
//
// Bindings (wrangler.toml [vars]): ORIGIN_URL, ENTRA_TENANTS ("any" or comma-separated tenant
// ids), ENTRA_AUDIENCES (comma-separated), optional REQUIRED_SCOPES, REQUIRED_ROLES,
// ALLOWED_CLIENT_APPS; optional KV namespace JWKS_CACHE to share signing keys across isolates,
// otherwise the Cache API (caches.default, shared by the isolates of a location) does.
// In your project import from "@entrawatch/validator"; this path keeps the example runnable here.
import { cacheApiStore, createValidator } from "../src/worker.js";

const IDENTITY_HEADERS = ["x-entra-oid", "x-entra-tid", "x-entra-app-id", "x-entra-app-only"];
const list = (value) => (value ? value.split(",").map((s) => s.trim()).filter(Boolean) : []);

let validator; // one per isolate: its JWKS and token caches survive between requests

function validatorFor(env) {
  validator ??= createValidator({
    tenants: env.ENTRA_TENANTS === "any" ? "any" : list(env.ENTRA_TENANTS),
    audiences: list(env.ENTRA_AUDIENCES),
    requiredScopes: list(env.REQUIRED_SCOPES),
    requiredRoles: list(env.REQUIRED_ROLES),
    allowedClientApps: list(env.ALLOWED_CLIENT_APPS),
    cache: env.JWKS_CACHE ?? cacheApiStore(),
  });
  return validator;
}

function deny(status, wwwAuthenticate, error) {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/json", "www-authenticate": wwwAuthenticate },
  });
}

export default {
  async fetch(request, env, ctx) {
    const authorization = request.headers.get("authorization");
    if (!authorization) {
      // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
      return deny(401, 'Bearer realm="api"', "missing_token");
    }
    // waitUntil keeps a background key refresh (and its cache put) alive past the response.
    const result = await validatorFor(env).validate(authorization, { waitUntil: (p) => ctx.waitUntil(p) });
    if (!result.ok) return deny(result.status, result.wwwAuthenticate, result.code);

    const headers = new Headers(request.headers);
    // Identity headers are only ever set here; anything the client sent under these names is dropped.
    for (const name of IDENTITY_HEADERS) headers.delete(name);
    const p = result.principal;
    headers.set("x-entra-oid", p.oid ?? "");
    headers.set("x-entra-tid", p.tid ?? "");
    headers.set("x-entra-app-id", p.appId ?? "");
    headers.set("x-entra-app-only", String(p.appOnly));

    const incoming = new URL(request.url);
    const target = new URL(incoming.pathname + incoming.search, env.ORIGIN_URL);
    return fetch(target, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
    });
  },
};
