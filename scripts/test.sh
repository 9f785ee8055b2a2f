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

# Steps that mostly wait (downloads, test binaries waiting on emulated pacing and moto) run beside steps that
# keep both cores busy (compiling); the one in the background logs to a file printed when it is joined.
logs=$(mktemp -d)
background() { # name, command...: starts the command, logging to $logs/<name>.log
  local name=$1; shift
  "$@" >"$logs/$name.log" 2>&1 &
  eval "bg_$name=$!"
}
join() { # name: waits for the background command, prints its log, fails the run if it failed
  local name=$1 pid_var="bg_$1" rc=0
  wait "${!pid_var}" || rc=$?
  printf -- '--- %s (ran in the background):\n' "$name"
  cat "$logs/$name.log"
  [ "$rc" -eq 0 ] || { echo "$name failed (exit $rc)" >&2; exit "$rc"; }
}
motos=()
cleanup() {
  for job in $(jobs -p); do kill "$job" 2>/dev/null || true; done
  for pid in "${motos[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap cleanup EXIT

step "cargo clippy (all targets, warnings are errors); beside it: python tools (.venv: moto_server, cfn-lint, checkov, cargo-lambda), template.yaml lint"
background python bash -c 'scripts/setup-python.sh && scripts/lint-infra.sh && scripts/build-lambda.sh --install-only'
background browser scripts/test-browser.sh --install-only
cargo clippy --workspace --all-targets --locked -- -D warnings
join python
join browser

step "cargo test: build, and the doc tests"
messages="$logs/test-binaries.json"
cargo test --workspace --locked --no-run --message-format=json-render-diagnostics >"$messages"
cargo test --workspace --locked --doc

step "cargo test: the test binaries, four at a time, each worker with its own moto_server; beside them (niced): cargo lambda build --arm64 (cross-compile and link check)"
# The test binaries leave most of the CPU idle; the Lambda cross-build takes what they leave.
background lambda nice -n 19 scripts/build-lambda.sh --check
urls=()
for _ in 1 2 3 4; do
  read -r pid url < <(scripts/moto.sh)
  motos+=("$pid")
  urls+=(--moto "$url")
done
scripts/run-tests.py --jobs 4 "${urls[@]}" <"$messages"
join lambda

step "browser: the inventory's HTML report of an emulator tenant in headless Chromium (puppeteer-core)"
# The inventory test binary built above makes the report; the browser test checks it and writes a screenshot.
inventory_test=$(python3 -c '
import json, sys
for line in sys.stdin:
    if not line.startswith("{"):
        continue
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "inventory" \
            and "test" in m["target"]["kind"] and "/functions/cli/" in m["manifest_path"]:
        print(m["executable"])
' <"$messages")
INVENTORY_TEST="$inventory_test" scripts/test-browser.sh

if [ -x scripts/test-validator.sh ]; then
  step "validator: WebAssembly build and JavaScript suites"
  scripts/test-validator.sh
fi

end_step
printf '\n==> all tests passed in %ds; by step:\n' $((SECONDS - started))
printf '%s\n' "${timings[@]}"
