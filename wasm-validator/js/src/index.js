// Entry point for Node and Deno: loads the .wasm from the package and verifies signatures with
// node:crypto (both runtimes provide it).
import * as nodeCrypto from "node:crypto";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { initSync } from "../pkg/entrawatch_validator_wasm.js";
import { makeValidator, verifyJws } from "./core.js";

initSync({ module: readFileSync(new URL("../pkg/entrawatch_validator_wasm_bg.wasm", import.meta.url)) });

/** See SPEC.md "Token validator"; extra options are documented in wasm-validator/README.md. */
export function createValidator(options) {
  return makeValidator(options, { nodeCrypto, Buffer });
}

export { verifyJws };
