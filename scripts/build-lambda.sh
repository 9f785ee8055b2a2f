#!/usr/bin/env bash
# Builds the three Lambda functions for arm64 (provided.al2023) with cargo-lambda, installing what it needs
# idempotently: the rustup target and cargo-lambda (PyPI, brings Zig as the cross linker) into .venv.
# REFERENCE.md §10. Output: target/lambda/<function>/bootstrap, and each binary's size.
# `--check` (what scripts/test.sh runs) builds the unoptimised profile instead: it proves the functions
# cross-compile and link for Lambda's arm64 in about half the time; the release build is what `sam build` and the
# sizes in README.md use. `--install-only` installs what the build needs and stops (scripts/test.sh does it early,
# beside other work).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LAMBDA_VERSION=1.9.2
FUNCTIONS=(break-glass dormant-accounts token-authorizer)

rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' || rustup target add aarch64-unknown-linux-gnu
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('cargo-lambda') != '$CARGO_LAMBDA_VERSION')" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
export PATH="$PWD/.venv/bin:$PATH"
[ "${1:-}" = "--install-only" ] && exit 0

args=()
for f in "${FUNCTIONS[@]}"; do args+=(-p "$f"); done
profile=(--release)
label="release"
if [ "${1:-}" = "--check" ]; then
  profile=()
  label="debug, not for deployment"
fi
cargo lambda build "${profile[@]}" --arm64 "${args[@]}"

target=${CARGO_TARGET_DIR:-target}
for f in "${FUNCTIONS[@]}"; do
  printf '%-18s %10d bytes (%s)\n' "$f" "$(stat -c %s "$target/lambda/$f/bootstrap")" "$label"
done
