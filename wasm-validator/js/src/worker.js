// Entry point for workerd (Cloudflare Workers, miniflare): the bundler or runtime hands over the
// compiled .wasm module, and signatures are checked with WebCrypto.
import wasmModule from "../pkg/entrawatch_validator_wasm_bg.wasm";
import { initSync } from "../pkg/entrawatch_validator_wasm.js";
import { makeValidator, verifyJws } from "./core.js";

initSync({ module: wasmModule });

/** See SPEC.md "Token validator"; extra options are documented in wasm-validator/README.md. */
export function createValidator(options) {
  return makeValidator(options, { subtle: crypto.subtle, redirect: "manual" });
}

export { verifyJws };
export { cacheApiStore } from "./cache-api.js";
