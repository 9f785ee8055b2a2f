#!/usr/bin/env bash
# Measures what a newcomer waits for: a fresh clone of this repository (committed HEAD) in an empty directory, then
# the README's first command, from the clone to the demo's last line. The build starts from nothing (the clone's own
# target directory); crates already in ~/.cargo/registry are not downloaded again. Prints the wall time.
# Usage: scripts/time-demo.sh [directory to clone into, default a new temporary one]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
# The first command in README.md's first ```sh block, without its comment.
command="$(awk '/^```sh/{inside=1; next} inside{print; exit}' "$repo/README.md" | sed 's/#.*//; s/[[:space:]]*$//')"
[ -n "$command" ] || { echo "time-demo: no first command in README.md" >&2; exit 1; }

started=$(date +%s.%N)
git clone --quiet "$repo" "$work/entrawatch"
cd "$work/entrawatch"
unset CARGO_TARGET_DIR
echo "time-demo: $command (in $work/entrawatch, nothing beside it)" >&2
last="$(bash -c "$command" 2>"$work/build.log" | tee "$work/demo.out" | tail -n 1)"
ended=$(date +%s.%N)
echo "time-demo: last line: $last" >&2
awk -v a="$started" -v b="$ended" -v cores="$(nproc)" \
  'BEGIN { printf "time-demo: clone to last demo line in %.0f s (%d cores)\n", b - a, cores }'
