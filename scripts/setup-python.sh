#!/usr/bin/env bash
# Creates .venv (gitignored) with the Python tools the tests use, idempotently:
# moto[server] provides moto_server, a local DynamoDB / SSM / Secrets Manager (REFERENCE.md §10);
# cfn-lint and checkov lint template.yaml offline.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=("moto[server]==5.2.5" "cfn-lint==1.58.0" "checkov==3.3.30")

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# Installs only when a pinned version is missing, so a second run costs a second.
if ! .venv/bin/python - "${PACKAGES[@]}" <<'PY' 2>/dev/null
import importlib.metadata as m, re, sys
for spec in sys.argv[1:]:
    name, version = re.match(r"([A-Za-z0-9_.-]+)(?:\[.*\])?==(.+)", spec).groups()
    if m.version(name) != version:
        sys.exit(1)
PY
then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"
fi
.venv/bin/moto_server --help >/dev/null
.venv/bin/cfn-lint --version >/dev/null
