#!/usr/bin/env bash
# Side-by-side SQL lineage throughput: Headwaters' extractor against sqllineage 1.5.9,
# sqlglot, compiled sqlglot (sqlglot[c]) and OpenLineage's Rust extractor
# (openlineage-sql, called from Python), on the same statements, in one run.
# Python tools go into throwaway venvs under ${TMPDIR:-/tmp}; nothing is installed
# system-wide. PEER_BUDGET_SECONDS (default 60) caps each tool on each corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${TMPDIR:-/tmp}/headwaters-sql-peers"
mkdir -p "$work"
venv() {
  local dir="$work/$1"; shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q "$@"
  fi
  echo "$dir/bin/python"
}
py_lineage=$(venv sqllineage "sqllineage==1.5.9")
py_glot=$(venv sqlglot sqlglot)
py_glot_c=$(venv sqlglot-c "sqlglot[c]")
py_ol=$(venv openlineage-sql openlineage-sql)

echo "## Headwaters (cargo bench -p headwaters-sqllineage --bench throughput)"
source scripts/setup.sh
cargo bench -q -p headwaters-sqllineage --bench throughput 2>/dev/null
echo
echo "## Python tools, one thread, column level"
echo "| tool | corpus | statements | failed | stmt/s | texts/s |"
echo "|---|---|---|---|---|---|"
"$py_lineage" benches/sql_peers.py sqlglot sqllineage
"$py_glot" benches/sql_peers.py "sqlglot $("$py_glot" -c 'import sqlglot; print(sqlglot.__version__)')" sqlglot
"$py_glot_c" benches/sql_peers.py "sqlglot[c] $("$py_glot_c" -c 'import sqlglot; print(sqlglot.__version__)')" sqlglot
"$py_ol" benches/sql_peers.py "openlineage-sql $("$py_ol" -m pip show openlineage-sql | sed -n 's/^Version: //p')" openlineage-sql
