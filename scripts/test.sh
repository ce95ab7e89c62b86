#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
cargo test --release --locked --workspace --no-fail-fast
