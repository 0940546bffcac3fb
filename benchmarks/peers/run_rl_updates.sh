#!/usr/bin/env bash
# One agent update, Graft (benchmarks/rl_updates.rs, criterion) against PyTorch eager, in one
# shell run, one thread each, alternating ROUNDS times so the machine's load hits both; prints
# each side's median seconds per update and the ratio PyTorch / Graft (above 1: Graft faster);
# PyTorch runs twice, as it comes and with the allocator settings the graft binary applies.
#
#   drqv2: DrQ-v2, batch 512 of 9x84x84 frames, walker's 6 actions
#          (peer: benchmarks/peers/drqv2_update.py)
#   dqn:   DrQ(eps) at --config atari100k, batch 32 of 4x84x84 frames, 18 actions
#          (peer: benchmarks/peers/dqn_update.py)
#
# Usage: benchmarks/peers/run_rl_updates.sh [drqv2|dqn] [ROUNDS]   (default drqv2 2)
# Env:   VENV: a Python with torch (default ~/.cache/graft/sb3-venv); CARGO_TARGET_DIR.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="${VENV:-$HOME/.cache/graft/sb3-venv}"
which="${1:-drqv2}"
rounds="${2:-2}"
case "$which" in
    drqv2) bench=drqv2_walker_b512; peer=(benchmarks/peers/drqv2_update.py 512 10 1) ;;
    dqn) bench=dqn_atari100k_b32; peer=(benchmarks/peers/dqn_update.py 32 200 1) ;;
    *) echo "unknown update '$which' (drqv2 or dqn)" >&2; exit 2 ;;
esac
cargo bench -q --bench rl_updates --no-run
echo "== $which: machine $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
    graft="$(cargo bench -q --bench rl_updates -- --noplot "$bench" 2>/dev/null \
        | grep -A1 "$bench" | grep -o 'time: *\[[^]]*\]' \
        | awk '{print $4, $5}')"
    torch="$("$venv/bin/python" "${peer[@]}")"
    # PyTorch again with the allocator settings the graft binary applies to itself.
    torch_heap="$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=536870912 MALLOC_TOP_PAD_=67108864 \
        "$venv/bin/python" "${peer[@]}")"
    python3 - "$graft" "$torch" "$torch_heap" "$r" <<'PY'
import json, sys
value, unit = sys.argv[1].split()
graft = float(value) * {"s": 1.0, "ms": 1e-3, "µs": 1e-6}[unit]
torch = json.loads(sys.argv[2])["median_s"]
heap = json.loads(sys.argv[3])["median_s"]
print(f"round {sys.argv[4]}: graft {graft:.4f} s/update (criterion median); pytorch "
      f"{torch:.4f} s ({torch / graft:.2f}x), pytorch with graft's malloc settings {heap:.4f} s "
      f"({heap / graft:.2f}x)")
PY
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
