#!/usr/bin/env bash
# Runs one Python peer of the `peers` bench in a venv of its own (created on first use
# in $HEADWATERS_CACHE/peers-venv, default ~/.cache/headwaters; delete it to start over).
#   bash benches/peers/run.sh duckdb|networkx WORKDIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HEADWATERS_CACHE:-$HOME/.cache/headwaters}"
venv="$cache/peers-venv"
stamp="$venv/requirements.txt"
if ! cmp -s "$here/requirements.txt" "$stamp"; then
    command -v python3 >/dev/null || { echo "python3 is missing: apt-get install -y python3 python3-venv" >&2; exit 1; }
    echo "creating $venv (duckdb, networkx from PyPI)" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" || { echo "python3 -m venv failed: apt-get install -y python3-venv" >&2; exit 1; }
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi
exec "$venv/bin/python" "$here/python_peers.py" "$@"
