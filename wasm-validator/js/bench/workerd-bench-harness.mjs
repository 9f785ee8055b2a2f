// Runs inside workerd for bench.mjs: validates the posted tokens with entrawatch (WebCrypto) or
// jose (WebCrypto) and answers how many passed. Validators live for the isolate's life.
import { createLocalJWKSet, jwtVerify } from "../node_modules/jose/dist/webapi/index.js";
import { createValidator } from "../src/worker.js";

let state;

export default {
  async fetch(request) {
    const { mode, options, issuer, tokens } = await request.json();
    state ??= { v: createValidator(options), jose: createLocalJWKSet(options.jwks) };
    let ok = 0;
    for (const t of tokens) {
      if (mode === "jose") {
        try {
          await jwtVerify(t, state.jose, { issuer, audience: options.audiences[0] });
          ok++;
        } catch {
          // counted as a refusal
        }
      } else if ((await state.v.validate(t)).ok) {
        ok++;
      }
    }
    return Response.json({ ok });
  },
};
