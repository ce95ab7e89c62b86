#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite. Ends with one line
# "tests: N passed, M failed, K skipped" summed over every test binary.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/setup.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --release --locked --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     END { if (p + f == 0) { print "tests: no test ran"; exit 1 } printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
