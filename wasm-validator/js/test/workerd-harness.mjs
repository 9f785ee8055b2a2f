// Runs inside workerd (miniflare): validates the tokens the Node test posts, with a validator per
// scenario name kept for the isolate's life, the way a Worker keeps one at module scope.
import { createValidator, verifyJws } from "../src/worker.js";

const validators = new Map();

export default {
  async fetch(request) {
    const { name, options, tokens, verify, summary } = await request.json();
    if (verify) return Response.json(verifyJws(verify.token, verify.jwks));
    let v = validators.get(name);
    if (!v) {
      v = createValidator(options);
      validators.set(name, v);
    }
    const results = await Promise.all(tokens.map((t) => v.validate(t)));
    // The benchmark asks for a count only, so the response size does not depend on the path.
    if (summary) return Response.json({ ok: results.filter((r) => r.ok).length });
    return Response.json({ results });
  },
};
