#!/usr/bin/env bash
# Installs what the WebAssembly validator build needs. Idempotent: each step is skipped when done.
#   - the wasm32-unknown-unknown Rust target
#   - wasm-bindgen-cli at exactly the version wasm-bindgen is pinned to, into ./.tools (git-ignored)
#   - the JavaScript package's pinned dev dependencies (npm ci from package-lock.json)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
# The one source of the version: the `=` pin in the workspace Cargo.toml.
WB_VERSION="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")"
if [[ -z "$WB_VERSION" ]]; then
  echo "setup-wasm: no exact wasm-bindgen pin (wasm-bindgen = \"=X.Y.Z\") in Cargo.toml" >&2
  exit 1
fi

if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
  fi
fi

mkdir -p "$TOOLS"
# Keep the installed binaries out of git without touching the repository's .gitignore.
[[ -f "$TOOLS/.gitignore" ]] || printf '*\n' > "$TOOLS/.gitignore"
installed="$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$installed" != "$WB_VERSION" ]]; then
  echo "setup-wasm: installing wasm-bindgen-cli $WB_VERSION into $TOOLS" >&2
  # --debug: an unoptimised build compiles in about half the time, and it post-processes one small .wasm.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --debug --root "$TOOLS"
fi

JS="$ROOT/wasm-validator/js"
if [[ ! -d "$JS/node_modules" || "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ]]; then
  # `npm ci` refuses a lock file that lacks other platforms' optional packages (deno's darwin and
  # windows binaries), which happens when the registry mirror holds only this platform's; then
  # `npm install` installs the same locked versions.
  (cd "$JS" && { npm ci --no-audit --no-fund || npm install --no-audit --no-fund; })
fi
