#!/usr/bin/env bash
# Cluster benchmark: three NATS servers (JetStream, R3) and three `headwaters serve
# --cluster` nodes on this machine, all started from copies of the 1M-node store that
# benches/server/run.sh builds, against one single node on the same store.
#   durable writes/s: PUT /api/v1/lineage from 16 connections (single node; one cluster
#     node; the three nodes at once)
#   replication lag: time from a write's answer on node 1 to node 2 having applied it
#     (X-Headwaters-Min-Sequence), while the three nodes take writes
#   reads: GET lineage depth 3 from 32 connections on one node vs on three at once
#   catch-up: snapshot to JetStream's object store, then a fourth node from nothing
# Usage: bash benches/cluster/run.sh [SERVER_BENCH_DIR=/tmp/hw-server-bench] [WORKDIR=/tmp/hw-cluster-bench]
# Needs wrk and nats-server (apt-get install -y wrk nats-server).
set -euo pipefail
source "$(dirname "$0")/../../scripts/setup.sh"
SRC="${1:-/tmp/hw-server-bench}"
WORK="${2:-/tmp/hw-cluster-bench}"
HERE="$(cd "$(dirname "$0")" && pwd)"
command -v wrk >/dev/null || { echo "error: wrk is missing. Run: sudo apt-get install -y wrk" >&2; exit 1; }
NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
[ -x "$NATS" ] || { echo "error: nats-server is missing. Run: sudo apt-get install -y nats-server" >&2; exit 1; }
[ -f "$SRC/put.lua" ] && [ -d "$SRC/data" ] || { echo "error: run benches/server/run.sh first (it builds $SRC)" >&2; exit 1; }
cargo build --release --workspace --bin headwaters
HW="$CARGO_TARGET_DIR/release/headwaters"
rm -rf "$WORK" && mkdir -p "$WORK"
PIDS=()
trap 'kill ${PIDS[@]+"${PIDS[@]}"} 2>/dev/null || true' EXIT

for i in 1 2 3; do
  cat > "$WORK/nats$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:2422$i
max_payload: 8MB
jetstream { store_dir: "$WORK/js$i" }
cluster { name: hwbench, listen: 127.0.0.1:2622$i, routes: [nats-route://127.0.0.1:26221, nats-route://127.0.0.1:26222, nats-route://127.0.0.1:26223] }
CONF
  "$NATS" -c "$WORK/nats$i.conf" > "$WORK/nats$i.log" 2>&1 &
  PIDS+=($!)
done
URLS=nats://127.0.0.1:24221,nats://127.0.0.1:24222,nats://127.0.0.1:24223
for d in single hw1 hw2 hw3; do cp -a "$SRC/data" "$WORK/$d"; done
mkdir -p "$WORK/hw4" && cp "$SRC/data/jwt-secret" "$WORK/hw4/"
export HW_TOKEN=$("$HW" token create --data-dir "$WORK/single" --name bench --role admin)
FLAGS=(--rate-limit-per-minute 0 --rate-limit-ip-per-minute 0)

start() { # name port [cluster flags...]
  local name=$1 port=$2; shift 2
  "$HW" serve --data-dir "$WORK/$name" --listen 127.0.0.1:$port "${FLAGS[@]}" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PIDS+=($!)
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
}
wrk_put() { wrk -t2 -c"$1" -d15s -s "$SRC/put.lua" --latency "$2"; }
summary() { grep -E 'Requests/sec|50%|99%|Non-2xx' | tr -s ' ' | tr '\n' ' '; echo; }

echo "== single node (durable: WAL fsync per write, group commit)"
start single 18780
echo -n "PUT lineage, 16 connections: "; wrk_put 16 http://127.0.0.1:18780 | summary
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

echo "== three cluster nodes"
t0=$(date +%s.%N)
start hw1 18781 --cluster "$URLS" --node-name hw1
start hw2 18782 --cluster "$URLS" --node-name hw2
start hw3 18783 --cluster "$URLS" --node-name hw3
echo "three nodes ready in $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
echo -n "PUT lineage through node 1, 16 connections: "; wrk_put 16 http://127.0.0.1:18781 | summary
python3 "$HERE/probe.py" lag http://127.0.0.1:18781 http://127.0.0.1:18782 > "$WORK/lag.txt" &
PROBE=$!
W=()
for p in 18781 18782 18783; do wrk_put 6 http://127.0.0.1:$p > "$WORK/put-$p.txt" & W+=($!); done
wait $PROBE "${W[@]}"
for p in 18781 18782 18783; do echo -n "PUT lineage through node $p (6 connections each, all at once): "; summary < "$WORK/put-$p.txt"; done
echo -n "replication lag node 1 -> node 2 under that load: "; cat "$WORK/lag.txt"

echo -n "GET depth 3, 32 connections, node 1 alone: "
wrk -t2 -c32 -d15s -s "$SRC/get3.lua" --latency http://127.0.0.1:18781 | summary
W=()
for p in 18781 18782 18783; do wrk -t1 -c11 -d15s -s "$SRC/get3.lua" --latency http://127.0.0.1:$p > "$WORK/get-$p.txt" & W+=($!); done
wait "${W[@]}"
for p in 18781 18782 18783; do echo -n "GET depth 3 on node $p (11 connections each, all at once): "; summary < "$WORK/get-$p.txt"; done

echo "== snapshot and a fourth node"
t0=$(date +%s.%N)
curl -sf -X POST -H "Authorization: Bearer $HW_TOKEN" http://127.0.0.1:18781/api/v1/system/cluster/snapshot | python3 -c 'import json,sys; d=json.load(sys.stdin); print("snapshot at", d["sequence"], "of", round(d["bytes"]/2**20), "MiB,", len(d["files"]), "files")'
echo "snapshot uploaded in $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
t0=$(date +%s.%N)
start hw4 18784 --cluster "$URLS" --node-name hw4
echo "fourth node from nothing to ready (download, open, catch up) in $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
python3 "$HERE/probe.py" digests http://127.0.0.1:18781 http://127.0.0.1:18782 http://127.0.0.1:18783 http://127.0.0.1:18784
