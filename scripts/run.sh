#!/usr/bin/env bash
# The main job: build (release) and run the lineage service with the demo data platform
# on an embedded database (./headwaters-data). Open http://127.0.0.1:8585/api/docs.
# Extra arguments go to `headwaters serve` (e.g. --listen 0.0.0.0:8585 --no-auth).
source "$(dirname "$0")/setup.sh"
cargo build --release -p headwaters-server --bin headwaters
exec "$CARGO_TARGET_DIR/release/headwaters" serve --demo "$@"
