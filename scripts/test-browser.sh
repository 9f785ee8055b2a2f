#!/usr/bin/env bash
# The inventory's HTML report in a real browser (issue 16): installs Debian's Chromium (apt, as root, once) and
# the pinned puppeteer-core (tests/browser/package-lock.json), makes the report and CSV of an emulator tenant
# with the inventory's end-to-end test, then runs tests/browser/inventory.test.mjs against them. Idempotent. Where
# no browser can be installed (not root, no apt, the package refused), it prints one line and skips.
#
#   scripts/test-browser.sh                  install what is missing, then test
#   scripts/test-browser.sh --install-only   install only (scripts/test.sh runs it beside the lints)
#   INVENTORY_TEST=<test executable>         the already built `entrawatch` inventory test, instead of cargo test
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$CARGO_TARGET_DIR/browser"
mkdir -p "$CARGO_TARGET_DIR"

chromium=$(command -v chromium || true)
if [ -z "$chromium" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium (apt-get)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$OUT.apt.log" 2>&1 \
    || tail -5 "$OUT.apt.log" >&2 || true
  chromium=$(command -v chromium || true)
fi
if [ -z "$chromium" ]; then
  echo "browser test skipped: no Chromium here and none could be installed (needs root and Debian's apt package chromium)"
  exit 0
fi

if [ ! -d "$ROOT/tests/browser/node_modules/puppeteer-core" ]; then
  (cd "$ROOT/tests/browser" && { npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; })
fi
[ "${1:-}" = "--install-only" ] && exit 0

rm -rf "$OUT" && mkdir -p "$OUT"
case_name=inventory_writes_html_csv_and_json_lines_that_agree_and_escape_tenant_text
if [ -n "${INVENTORY_TEST:-}" ]; then
  (cd "$ROOT/functions/cli" && ENTRAWATCH_INVENTORY_KEEP="$OUT" "$INVENTORY_TEST" "$case_name" --exact --quiet)
else
  ENTRAWATCH_INVENTORY_KEEP="$OUT" cargo test --locked -p entrawatch --test inventory "$case_name" -- --exact --quiet
fi

cd "$ROOT/tests/browser"
INVENTORY_HTML="$OUT/inventory.html" INVENTORY_CSV="$OUT/inventory.csv" CHROMIUM="$chromium" \
  SCREENSHOT="$OUT/inventory.png" node --test inventory.test.mjs
echo "browser test: screenshot of the emulator tenant's inventory in $OUT/inventory.png"
