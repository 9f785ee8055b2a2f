#!/usr/bin/env bash
# Runs every entrawatch test: formatting, lints, Rust tests, then the validator's WebAssembly/JavaScript suites.
# Installs what it needs (rustup components and targets, pinned tools, npm packages) idempotently, so a fresh
# machine with the Rust toolchain, Python 3 and Node needs nothing else. Every test runs offline on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-shot full run gains nothing from incremental caches, which cost gigabytes of disk.
export CARGO_INCREMENTAL=0

# Each step's wall time, printed as a table at the end (README "Tests": what takes the time).
started=$SECONDS
step_name=""
step_started=$SECONDS
timings=()
end_step() {
  [ -n "$step_name" ] && timings+=("$(printf '%5ds  %s' $((SECONDS - step_started)) "$step_name")")
  return 0
}
step() {
  end_step
  step_name="$*"
  step_started=$SECONDS
  printf '\n==> %s\n' "$*"
}

step "toolchain components"
installed=$(rustup component list --installed 2>/dev/null || true)
for c in rustfmt clippy; do
  grep -q "^$c" <<<"$installed" || rustup component add "$c"
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "python tools (.venv: moto_server for DynamoDB / SSM / Secrets Manager tests, cfn-lint, checkov)"
scripts/setup-python.sh

step "template.yaml: cfn-lint, checkov, table definition"
scripts/lint-infra.sh

step "moto_server on loopback"
read -r moto_pid ENTRAWATCH_TEST_MOTO_URL < <(scripts/moto.sh)
export ENTRAWATCH_TEST_MOTO_URL
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
echo "moto_server $ENTRAWATCH_TEST_MOTO_URL (pid $moto_pid)"

step "cargo test"
cargo test --workspace --locked

if [ -x scripts/test-validator.sh ]; then
  step "validator: WebAssembly build and JavaScript suites"
  scripts/test-validator.sh
fi

step "Lambda functions: cargo lambda build --arm64 (cross-compile and link check)"
scripts/build-lambda.sh --check

end_step
printf '\n==> all tests passed in %ds; by step:\n' $((SECONDS - started))
printf '%s\n' "${timings[@]}"
