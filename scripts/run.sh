#!/usr/bin/env bash
# The main job: build (release) and run the engine demo on a generated lineage graph.
# Extra arguments go to `headwaters demo` (e.g. --nodes 1000000 --data-dir /tmp/hw).
source "$(dirname "$0")/setup.sh"
cargo build --release -p headwaters-server --bin headwaters
exec "$CARGO_TARGET_DIR/release/headwaters" demo "$@"
