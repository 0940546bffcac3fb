#!/usr/bin/env bash
# Scale-out on CPU, in one shell run: samples/s of a data-parallel training step with 1 and
# 2 processes (1 intra-op thread each), Graft (`graft dist check`: c10d Gloo through Graft's
# shim, `graft launch` for 2 processes) next to PyTorch DDP over Gloo on the same network,
# batch and optimiser (benchmarks/peers/torch_ddp.py). Each configuration runs REPEATS times,
# interleaved; the table shows medians and the 2-process / 1-process ratio.
#
#   benchmarks/peers/run_dist.sh                  # from anywhere in the repository
#   REPEATS=5 STEPS=600 BATCH=64 benchmarks/peers/run_dist.sh
#
# Needs benchmarks/peers/.venv with torch 2.11.0 (run_models.sh sets it up).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/benchmarks/peers/.venv"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TARGET_DIR="$TARGET"
REPEATS="${REPEATS:-3}" STEPS="${STEPS:-300}" BATCH="${BATCH:-32}" DATASET="${DATASET:-16384}"
ARGS=(--steps "$STEPS" --batch "$BATCH" --dataset "$DATASET")

cargo build --release -q --bin graft
GRAFT="$TARGET/release/graft"
echo "== machine: $(nproc) cores, $(uname -sr), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== steps $STEPS, batch $BATCH per process, 1 intra-op thread per process, repeats $REPEATS"
OUT="$(mktemp)"
for _ in $(seq "$REPEATS"); do
  "$GRAFT" --threads 1 dist check "${ARGS[@]}" | sed -n 's/.*, \([0-9.]*\) samples\/s/graft 1 \1/p' >>"$OUT"
  "$GRAFT" launch --nproc 2 -- --threads 1 dist check "${ARGS[@]}" \
    | sed -n 's/^\[rank 0\].*, \([0-9.]*\) samples\/s/graft 2 \1/p' >>"$OUT"
  for n in 1 2; do
    "$VENV/bin/python" -W ignore benchmarks/peers/torch_ddp.py --nproc "$n" "${ARGS[@]}" \
      | sed -n 's/^RESULT ddp \([0-9]*\) \([0-9.]*\)/pytorch \1 \2/p' >>"$OUT"
  done
done
python3 - "$OUT" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    who, n, sps = line.split()
    runs.setdefault((who, int(n)), []).append(float(sps))
print(f"{'system':8} {'1 proc':>10} {'2 procs':>10} {'2/1':>6}   (median samples/s; runs)")
for who in ("graft", "pytorch"):
    one, two = (statistics.median(runs.get((who, n), [float('nan')])) for n in (1, 2))
    print(f"{who:8} {one:10.0f} {two:10.0f} {two / one:5.2f}x   {runs.get((who, 1))} {runs.get((who, 2))}")
g1, p1 = (statistics.median(runs[(w, 1)]) for w in ("graft", "pytorch"))
g2, p2 = (statistics.median(runs[(w, 2)]) for w in ("graft", "pytorch"))
print(f"graft / pytorch: 1 proc {g1 / p1:.2f}x, 2 procs {g2 / p2:.2f}x")
PY
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$OUT"
