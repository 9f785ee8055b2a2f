#!/usr/bin/env bash
# Builds the WebAssembly validator and runs its JavaScript tests in Node, workerd (miniflare) and
# Deno. Run after `cargo test --workspace`; needs only the crates.io and npm registries.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JS="$ROOT/wasm-validator/js"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

"$ROOT/scripts/setup-wasm.sh"

# Size matters at the edge: one codegen unit, LTO and abort-on-panic for this build only,
# without changing the workspace's release profile for the native binaries.
CARGO_PROFILE_RELEASE_LTO=true \
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_PANIC=abort \
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 \
  cargo build --release --locked -p entrawatch-validator-wasm --target wasm32-unknown-unknown

rm -rf "$JS/pkg"
"$ROOT/.tools/bin/wasm-bindgen" --target web --out-dir "$JS/pkg" \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/entrawatch_validator_wasm.wasm"
WASM="$JS/pkg/entrawatch_validator_wasm_bg.wasm"
"$JS/node_modules/.bin/wasm-opt" -O3 --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --strip-debug --strip-producers "$WASM" -o "$WASM.opt"
mv "$WASM.opt" "$WASM"
echo "validator .wasm: $(wc -c < "$WASM") bytes, $(gzip -9c "$WASM" | wc -c) gzipped" >&2

cd "$JS"
node --test test/node.test.mjs test/node-jwks.test.mjs
node --test test/workerd.test.mjs test/workerd-cache.test.mjs test/worker-example.test.mjs
"$JS/node_modules/.bin/deno" run --allow-read --allow-net=127.0.0.1 test/deno-smoke.mjs
