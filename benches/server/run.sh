#!/usr/bin/env bash
# Server benchmark: a generated graph loaded into `headwaters serve`, then wrk.
#   GET  /api/v1/lineage/table/name/{fqn} at depth 3 (and 1) from 300 random tables, 32 connections
#   PUT  /api/v1/lineage from 16 connections (durable: every answer waits for the WAL fsync)
# Usage: bash benches/server/run.sh [NODES=1000000] [WORKDIR=/tmp/hw-server-bench]
# Needs wrk (apt-get install -y wrk).
set -euo pipefail
source "$(dirname "$0")/../../scripts/setup.sh"
NODES="${1:-1000000}"
WORK="${2:-/tmp/hw-server-bench}"
command -v wrk >/dev/null || { echo "error: wrk is missing. Run: sudo apt-get install -y wrk" >&2; exit 1; }
cargo build --release -p headwaters-server --bin headwaters
HW="$CARGO_TARGET_DIR/release/headwaters"
rm -rf "$WORK" && mkdir -p "$WORK"
"$HW" gen --nodes "$NODES" --out "$WORK/graph.jsonl"
"$HW" load --data-dir "$WORK/data" --jsonl "$WORK/graph.jsonl"
PORT=18777
"$HW" serve --data-dir "$WORK/data" --listen 127.0.0.1:$PORT \
  --rate-limit-per-minute 0 --rate-limit-ip-per-minute 0 > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until grep -q listening "$WORK/serve.out" 2>/dev/null; do sleep 0.5; done
export HW_TOKEN=$("$HW" token create --data-dir "$WORK/data" --name bench --role editor)
python3 "$(dirname "$0")/scripts.py" "$WORK" "http://127.0.0.1:$PORT"
for depth in 3 1; do
  echo "== GET lineage by name, depth $depth up + $depth down, 32 connections"
  wrk -t2 -c32 -d20s -s "$WORK/get$depth.lua" --latency "http://127.0.0.1:$PORT" | grep -E 'Latency|50%|90%|99%|Requests/sec|Transfer'
done
echo "== GET lineage by name, depth 3 up + 3 down, 50,000 roots (answers not cached before), 32 connections"
wrk -t2 -c32 -d20s -s "$WORK/get3_spread.lua" --latency "http://127.0.0.1:$PORT" | grep -E 'Latency|50%|90%|99%|Requests/sec|Transfer'
echo "== GET lineage by name, depth 3, one connection (end-to-end latency)"
wrk -t1 -c1 -d10s -s "$WORK/get3.lua" --latency "http://127.0.0.1:$PORT" | grep -E '50%|90%|99%|Requests/sec'
echo "== PUT lineage, 16 connections, durable"
wrk -t2 -c16 -d20s -s "$WORK/put.lua" --latency "http://127.0.0.1:$PORT" | grep -E '50%|99%|Requests/sec|Non-2xx'
