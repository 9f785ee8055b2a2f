// Runs inside workerd (miniflare): validates the tokens the Node test posts, with a validator per
// scenario name kept for the isolate's life, the way a Worker keeps one at module scope.
import { cacheApiStore, createValidator, verifyJws } from "../src/worker.js";

const validators = new Map();

export default {
  async fetch(request, env, ctx) {
    const { name, options, tokens, verify, verifyMany, summary } = await request.json();
    if (verify) return Response.json(verifyJws(verify.token, verify.jwks));
    // Wycheproof: only whether each was accepted, and that payloadBytes came back as bytes.
    if (verifyMany) {
      return Response.json(verifyMany.map(({ token, jwks }) => {
        const r = verifyJws(token, jwks);
        return r.ok === true && r.payloadBytes instanceof Uint8Array;
      }));
    }
    let v = validators.get(name);
    if (!v) {
      // `cacheApi`: share the key set through the Cache API (caches.default), as a Worker would.
      v = createValidator(options.cacheApi ? { ...options, cache: cacheApiStore() } : options);
      validators.set(name, v);
    }
    const results = await Promise.all(tokens.map((t) => v.validate(t, { waitUntil: (p) => ctx.waitUntil(p) })));
    // The benchmark asks for a count only, so the response size does not depend on the path.
    if (summary) return Response.json({ ok: results.filter((r) => r.ok).length });
    return Response.json({ results });
  },
};
