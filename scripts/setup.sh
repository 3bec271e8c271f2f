# Sourced by scripts/run.sh and scripts/test.sh: checks the toolchain and installs what a
# fresh machine lacks (libclang for RocksDB's bindings), or stops with the command to run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not on PATH. Install Rust (rustup), then rerun this command." >&2
  exit 1
fi

# Installs Debian packages when run as root, or stops with the exact command to run.
# Usage: need_apt "why they are needed" pkg...
need_apt() {
  local why="$1"
  shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing $* ($why) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "$@" >&2
  else
    echo "error: $why. Run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
}

have_libclang() {
  ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/x86_64-linux-gnu/libclang-*.so* 2>/dev/null | grep -q 'libclang[-.0-9]*\.so' &&
    ls /usr/lib/llvm-*/lib/clang/*/include/stdbool.h >/dev/null 2>&1
}

if ! have_libclang; then
  need_apt "RocksDB's Rust bindings need libclang" libclang1-14 libclang-common-14-dev
fi

# One build directory outside the clone, shared by run, test and CI, so RocksDB's C++
# (most of a clean build) is compiled once per machine. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/headwaters/target}"

# The server's end-to-end test runs OpenMetadata's Python SDK from a venv it creates
# (cached under ~/.cache/headwaters). Only the test command asks for this.
need_python_venv() {
  if ! command -v python3 >/dev/null 2>&1; then
    echo "error: python3 is not on PATH. Run: sudo apt-get install -y python3 python3-venv" >&2
    exit 1
  fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    need_apt "python3 cannot create virtualenvs (the SDK test builds one)" python3-venv
  fi
}

# The ingestion test starts its own PostgreSQL (Debian's server package). Only the test
# command asks for it.
need_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need_apt "the OpenMetadata ingestion test runs a real PostgreSQL" postgresql
  fi
}

# The cluster test runs three real NATS servers (JetStream) on loopback ports.
need_nats() {
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
    need_apt "the cluster test runs Debian's nats-server" nats-server
  fi
}

# The browser test drives Debian's Chromium with playwright-core (never a downloaded
# browser) and needs Node.js for it. Only the test command asks for these.
need_browser() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "error: the browser test needs Node.js and npm. Run: sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
  if [ ! -x /usr/bin/chromium ]; then
    need_apt "the browser test needs Debian's Chromium" chromium
  fi
  if [ ! -d server/viewer/node_modules/playwright-core ]; then
    echo "setup: npm ci in server/viewer (playwright-core, the viewer's build tools) ..." >&2
    (cd server/viewer && npm ci --no-audit --no-fund --silent >&2)
  fi
}
