#!/usr/bin/env bash
# One DrQ-v2 update, Graft (benches/rl_updates.rs, criterion) against PyTorch eager
# (benchmarks/peers/drqv2_update.py), in one shell run: batch 512 of 9x84x84 frames, walker's
# 6 actions, one thread each, alternating ROUNDS times so the machine's load hits both; prints
# each side's median seconds per update and the ratio PyTorch / Graft (above 1: Graft faster);
# PyTorch runs twice, as it comes and with the allocator settings the graft binary applies.
#
# Usage: benchmarks/peers/run_drqv2.sh [ROUNDS]   (default 2)
# Env:   VENV: a Python with torch (default ~/.cache/graft/sb3-venv); CARGO_TARGET_DIR.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="${VENV:-$HOME/.cache/graft/sb3-venv}"
rounds="${1:-2}"
cargo bench -q --bench rl_updates --no-run
echo "== machine: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
    graft="$(cargo bench -q --bench rl_updates -- --noplot drqv2 2>/dev/null \
        | grep -A1 'drqv2_walker_b512' | grep -o 'time: *\[[^]]*\]' \
        | awk '{print $4, $5}')"
    torch="$("$venv/bin/python" benchmarks/peers/drqv2_update.py 512 10 1)"
    # PyTorch again with the allocator settings the graft binary applies to itself.
    torch_heap="$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=536870912 MALLOC_TOP_PAD_=67108864 \
        "$venv/bin/python" benchmarks/peers/drqv2_update.py 512 10 1)"
    python3 - "$graft" "$torch" "$torch_heap" "$r" <<'PY'
import json, sys
value, unit = sys.argv[1].split()
graft = float(value) * {"s": 1.0, "ms": 1e-3}[unit]
torch = json.loads(sys.argv[2])["median_s"]
heap = json.loads(sys.argv[3])["median_s"]
print(f"round {sys.argv[4]}: graft {graft:.3f} s/update (criterion median); pytorch "
      f"{torch:.3f} s ({torch / graft:.2f}x), pytorch with graft's malloc settings {heap:.3f} s "
      f"({heap / graft:.2f}x)")
PY
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
