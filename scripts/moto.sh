#!/usr/bin/env bash
# Starts moto_server (from .venv, see scripts/setup-python.sh; through scripts/moto-server.py,
# which serializes requests as DynamoDB's conditional writes need) on a free loopback port and waits
# until it answers. Prints "<pid> <url>" on stdout. Used by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
.venv/bin/python scripts/moto-server.py -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
    echo "$pid http://127.0.0.1:$port"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "moto_server exited early" >&2; exit 1; }
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
echo "moto_server did not start on port $port" >&2
exit 1
