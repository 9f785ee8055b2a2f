#!/usr/bin/env bash
# Creates .venv (gitignored) with the Python tools the tests use, idempotently:
# moto[server] provides moto_server, a local DynamoDB / SSM / Secrets Manager (REFERENCE.md §10).
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null \
   || [ ! -x .venv/bin/moto_server ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
.venv/bin/moto_server --help >/dev/null
