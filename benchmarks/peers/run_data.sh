#!/usr/bin/env bash
# Dataset benchmarks side by side in one shell run: the criterion bench (which writes the
# files into $GRAFT_BENCH_DIR), then pyarrow reading the same files.
#   benchmarks/peers/run_data.sh [criterion filter]
set -euo pipefail
cd "$(dirname "$0")/../.."
export GRAFT_BENCH_DIR="${GRAFT_BENCH_DIR:-/tmp/graft-bench-data}"
PY="$(scripts/test-python-deps.sh)"
cargo bench -p graft --bench data -- --warm-up-time 1 "$@"
"$PY" benchmarks/peers/pyarrow_read.py "$GRAFT_BENCH_DIR"
