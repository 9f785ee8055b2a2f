// The validator's JavaScript half: JWKS fetching, cache persistence, the verified-token cache and
// signature checks with the host's own crypto. Every parsing and policy decision is made by the
// Rust core (wasm); this file only moves bytes and time in and out of it.

import { WasmValidator, verifyJwsJson } from "../pkg/entrawatch_validator_wasm.js";
import { fetchJwks, checkJwksUrl } from "./fetch.js";
import { HostCrypto, base64urlBytes } from "./host-crypto.js";

// Statuses of WasmValidator.begin (wasm-validator/wasm/src/lib.rs).
const NEED_FETCH = -1;
const WAIT = -2;

const CORE_OPTIONS = [
  "tenants", "audiences", "requiredScopes", "requiredRoles", "allowedClientApps",
  "clockSkewSeconds", "issuers", "maxTokenBytes", "jwksCache",
];

function defaultJwksUri(tenants) {
  // Entra publishes one key set for every tenant; a single-tenant API reads its tenant's copy.
  const tenant = Array.isArray(tenants) && tenants.length === 1 ? tenants[0] : "common";
  return `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`;
}

function stripBearer(value) {
  const v = String(value ?? "").trim();
  const first = v.charCodeAt(0) | 0x20; // a bare token starts "eyJ"; only "b"/"B" can be a scheme
  return first === 0x62 && v.length > 7 && v.slice(0, 7).toLowerCase() === "bearer " ? v.slice(7).trimStart() : v;
}

// Verdicts are JSON data: only objects and arrays need a call.
function deepFreeze(o) {
  Object.freeze(o);
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (typeof v === "object" && v !== null) deepFreeze(v);
  }
  return o;
}

function refusal(code, message) {
  const status = code === "insufficient_scope" || code === "client_not_allowed" ? 403 : 401;
  const error = status === 403 ? "insufficient_scope" : "invalid_token";
  const text = message.replace(/["\\]/g, "");
  return {
    ok: false, code, message, status,
    wwwAuthenticate: `Bearer error="${error}", error_description="${text}"`,
  };
}

/**
 * Creates a validator (SPEC.md "Token validator"). Options beyond the SPEC: `jwksUri`,
 * `fetchTimeoutMs` (5000), `maxJwksBytes` (65536), `tokenCacheSize` (1000), `cacheKey`,
 * `allowInsecureLoopback` (tests only: permits http://127.0.0.1), `now` (ms clock, tests),
 * `jwksCache` timings in seconds.
 */
export function makeValidator(options, host) {
  const opts = { ...options };
  const core = {};
  for (const k of CORE_OPTIONS) if (opts[k] !== undefined) core[k] = opts[k];
  const staticJwks = opts.jwks === undefined ? undefined
    : typeof opts.jwks === "string" ? opts.jwks : JSON.stringify(opts.jwks);
  const jwksUri = opts.jwksUri ?? defaultJwksUri(opts.tenants);
  // The core reads a tenant id in the URL: that document's issuer-less keys serve that tenant.
  if (staticJwks === undefined) core.jwksUri = jwksUri;
  const wasm = new WasmValidator(JSON.stringify(core), staticJwks);
  if (staticJwks === undefined) checkJwksUrl(jwksUri, opts.allowInsecureLoopback === true);
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const nowMs = opts.now ?? Date.now;
  const kv = opts.cache;
  const kvKey = opts.cacheKey ?? `entrawatch-jwks:${jwksUri}`;
  const tokenCacheSize = opts.tokenCacheSize ?? 1000;
  const hostCrypto = new HostCrypto(host);
  const tokens = new Map();
  let generation = wasm.key_generation();
  let inflight = null;
  let kvLoaded = kv ? null : Promise.resolve();

  const seconds = () => nowMs() / 1000;

  function followKeys() {
    const g = wasm.key_generation();
    if (g !== generation) {
      generation = g;
      tokens.clear();
      hostCrypto.reset();
    }
  }

  function runFetch() {
    inflight = (async () => {
      try {
        const body = await fetchJwks(fetchImpl, jwksUri, opts.fetchTimeoutMs ?? 5000, opts.maxJwksBytes ?? 65536, host.redirect);
        if (wasm.fetch_succeeded(body, seconds()) && kv) {
          const state = wasm.export_state();
          if (state) await Promise.resolve(kv.put(kvKey, state)).catch(() => {});
        }
      } catch {
        wasm.fetch_failed(seconds());
      } finally {
        inflight = null;
        followKeys();
      }
    })();
    return inflight;
  }

  async function loadKv() {
    try {
      const state = await kv.get(kvKey);
      if (typeof state === "string") wasm.import_state(state, seconds());
    } catch {
      // A broken KV store must not stop validation: fall through to fetching.
    }
    followKeys();
  }

  // The core answers the verdict and principal; the claims are the verified payload, which the
  // core has parsed strictly (no duplicate members), parsed again here with the native parser.
  function verdict(token, json) {
    const r = JSON.parse(json);
    if (!r.ok) return r;
    return { ok: true, claims: JSON.parse(hostCrypto.payloadText(token)), principal: r.principal };
  }

  // The verdict cache is an LRU over Map insertion order, approximated: a hit moves its entry to
  // the most recent end only once it has drifted into the older half, so a token seen again and
  // again costs one Map lookup, and eviction still takes an entry from the least recent half.
  let inserted = 0;

  function remember(token, result, keyGeneration) {
    // A verdict reached with keys that have since changed must not outlive them.
    if (keyGeneration !== wasm.key_generation()) return result;
    if (!result.ok || typeof result.claims.exp !== "number") return result;
    if (tokens.size >= tokenCacheSize) tokens.delete(tokens.keys().next().value);
    tokens.set(token, { result: deepFreeze(result), expMs: result.claims.exp * 1000, seq: ++inserted });
    return result;
  }

  function cached(token) {
    const hit = tokens.get(token);
    if (hit === undefined) return undefined;
    if (nowMs() >= hit.expMs) {
      tokens.delete(token);
      return undefined;
    }
    if (inserted - hit.seq > tokenCacheSize / 2) {
      tokens.delete(token);
      hit.seq = ++inserted;
      tokens.set(token, hit); // most recently used last
    }
    return hit.result;
  }

  // The host key is chosen before any await, so a key set swapped meanwhile cannot change it.
  function finishSync(token, handle, now = seconds()) {
    const keyGeneration = wasm.key_generation();
    const ok = hostCrypto.verifySync(wasm, handle, token);
    const json = ok === undefined
      ? wasm.finish_in_wasm(handle, now)
      : wasm.finish(handle, ok, now);
    return remember(token, verdict(token, json), keyGeneration);
  }

  async function finishAsync(token, handle) {
    const keyGeneration = wasm.key_generation();
    let ok;
    try {
      ok = await hostCrypto.verifyAsync(wasm, handle, token);
    } catch {
      ok = undefined; // key not importable by this host: verify inside wasm instead
    }
    const json = ok === undefined
      ? wasm.finish_in_wasm(handle, seconds())
      : wasm.finish(handle, ok, seconds());
    return remember(token, verdict(token, json), keyGeneration);
  }

  // `waitUntil` (a Worker's ctx.waitUntil): keeps a background refresh, and the cache put after
  // it, alive past the response; without it the isolate may drop them.
  async function validate(input, { waitUntil } = {}) {
    const token = stripBearer(input);
    followKeys();
    const hit = cached(token);
    if (hit) return hit;
    if (kvLoaded === null) kvLoaded = loadKv();
    await kvLoaded;
    for (let round = 0; round < 5; round++) {
      const now = seconds();
      const h = wasm.begin(token, now, false);
      if (h >= 0) {
        if (wasm.take_refresh() && !inflight) {
          const refresh = runFetch();
          if (typeof waitUntil === "function") waitUntil(refresh);
        }
        followKeys();
        return hostCrypto.hasSync ? finishSync(token, h, now) : finishAsync(token, h);
      }
      if (h === NEED_FETCH) await runFetch();
      else if (h === WAIT) await (inflight ?? new Promise((r) => setTimeout(r, 20)));
      else return JSON.parse(wasm.error_json());
    }
    return refusal("jwks_unavailable", "signing keys unavailable");
  }

  function validateSync(input) {
    const token = stripBearer(input);
    followKeys();
    const hit = cached(token);
    if (hit) return hit;
    const now = seconds(); // one clock read: a synchronous check takes microseconds
    const h = wasm.begin(token, now, true);
    if (h < 0) return JSON.parse(wasm.error_json());
    return finishSync(token, h, now);
  }

  return {
    validate,
    validateSync,
    exportCache: () => wasm.export_state(),
    importCache: (state) => {
      const adopted = wasm.import_state(String(state), seconds());
      followKeys();
      return adopted;
    },
  };
}

/**
 * Signature layer only: `{ ok: true, header, payload, payloadBytes }` or `{ ok: false, code,
 * message }`. Any payload bytes verify (RFC 7515); `payloadBytes` (a Uint8Array) is always
 * there, `payload` only when the payload is a JSON object. No claim rule is applied.
 */
export function verifyJws(compact, jwks) {
  const token = String(compact);
  const set = typeof jwks === "string" ? jwks : JSON.stringify(jwks);
  const r = JSON.parse(verifyJwsJson(token, set));
  if (r.ok) r.payloadBytes = base64urlBytes(token.slice(token.indexOf(".") + 1, token.lastIndexOf(".")));
  return r;
}
