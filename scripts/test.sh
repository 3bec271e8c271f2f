#!/usr/bin/env bash
# The whole test suite: formatting, lints (warnings are errors), and every test, all on
# the release profile so RocksDB is compiled once. Ends with one summary line.
source "$(dirname "$0")/setup.sh"
need_python_venv
need_postgres
need_nats
need_browser
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (release, all targets, -D warnings)"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "== cargo test (release)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --release --workspace 2>&1 | tee "$log"
# Totals over every test binary and doctest run (cargo prints one result line each).
awk '/^test result:/ { p += $4; f += $6 } END { printf "\ntotal: %d passed, %d failed\n", p, f }' "$log"
