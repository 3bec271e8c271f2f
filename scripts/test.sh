#!/usr/bin/env bash
# The whole test suite: formatting, lints (warnings are errors), and every test, all on
# the release profile so RocksDB is compiled once.
source "$(dirname "$0")/setup.sh"
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (release, all targets, -D warnings)"
cargo clippy --release --workspace --all-targets -- -D warnings
echo "== cargo test (release)"
cargo test --release --workspace
