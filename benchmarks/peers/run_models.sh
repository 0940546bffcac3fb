#!/usr/bin/env bash
# Model throughput side by side, in one shell run: the criterion bench benchmarks/models.rs
# (forward + backward, 2 libtorch threads) against PyTorch eager 2.11.0 on the same networks,
# batches and thread count (benchmarks/peers/torch_models.py), then a table of images/s and
# the ratios Graft / PyTorch.
#
#   benchmarks/peers/run_models.sh            # from anywhere in the repository
#   SECONDS_PER_MODEL=5 benchmarks/peers/run_models.sh
#   ONLY=inception benchmarks/peers/run_models.sh   # the cases whose name contains ONLY
#
# PyTorch goes into benchmarks/peers/.venv (gitignored): torch==2.11.0 from the wheel
# scripts/setup.sh cached in ~/.cache/graft/wheels when it is there (pip then fetches its
# CUDA dependency wheels, about 3 GB, needed for `import torch` even on CPU), and
# torchvision==0.26.0.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/benchmarks/peers/.venv"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TARGET_DIR="$TARGET"
WHEEL="${GRAFT_HOME:-$HOME/.cache/graft}/wheels/torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import torch, torchvision; assert torch.__version__.startswith("2.11.0") and torchvision.__version__.startswith("0.26.0")' 2>/dev/null; then
  if [ -f "$WHEEL" ]; then "$VENV/bin/pip" install -q "$WHEEL"; else "$VENV/bin/pip" install -q "torch==2.11.0"; fi
  "$VENV/bin/pip" install -q --no-deps "torchvision==0.26.0"
  "$VENV/bin/pip" install -q pillow numpy
fi

echo "== machine: $(nproc) cores, $(uname -sr), load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${ROUNDS:-}" ]; then
  # Alternating mode, for networks whose step takes seconds (Inception-v3 at 299x299): ROUNDS
  # rounds of STEPS timed steps on each side, Graft then PyTorch, so a change in the machine's
  # load hits both sides; the ratio of each round, then their median.
  #   ONLY=inception ROUNDS=3 STEPS=3 benchmarks/peers/run_models.sh
  STEPS="${STEPS:-3}"
  cargo bench -p graft --bench models --no-run 2>&1 | tail -1
  OUT="$(mktemp)"
  for r in $(seq "$ROUNDS"); do
    echo "== round $r (load $(cut -d' ' -f1 /proc/loadavg))"
    MODEL_STEPS="$STEPS" cargo bench -q -p graft --bench models -- "${ONLY:-}" 2>/dev/null \
      | sed 's/^RESULT /GRAFT /' | tee -a "$OUT"
    "$VENV/bin/python" -W ignore benchmarks/peers/torch_models.py --threads 2 --seconds 0 \
      --warmup 1 --only "${ONLY:-}" | grep '^RESULT' | sed 's/^RESULT /TORCH /' | tee -a "$OUT"
  done
  "$VENV/bin/python" - "$OUT" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
names = sorted({r[1] for r in rows})
for name in names:
    g = [float(r[2]) for r in rows if r[0] == "GRAFT" and r[1] == name]
    t = [float(r[2]) for r in rows if r[0] == "TORCH" and r[1] == name]
    ratios = [a / b for a, b in zip(g, t)]
    print(f"{name}: graft {['%.2f' % x for x in g]} img/s, torch {['%.2f' % x for x in t]} img/s (medians of each round)")
    print(f"{name}: ratio per round {['%.2f' % x for x in ratios]}, median {statistics.median(ratios):.2f}x")
PY
  echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  rm -f "$OUT"
  exit 0
fi
echo "== criterion: cargo bench -p graft --bench models"
cargo bench -p graft --bench models -- "${ONLY:-}" 2>&1 | grep -E "^models/|time:|thrpt:" || true

echo "== PyTorch eager: benchmarks/peers/torch_models.py --threads 2"
PY_OUT="$(mktemp)"
"$VENV/bin/python" -W ignore benchmarks/peers/torch_models.py --threads 2 --seconds "${SECONDS_PER_MODEL:-8}" --only "${ONLY:-}" | tee "$PY_OUT"

echo "== images/s: median and best iteration, each side; ratio = Graft / PyTorch"
"$VENV/bin/python" - "$TARGET/criterion/models" "$PY_OUT" <<'PY'
import json, pathlib, sys
crit, peer_file = pathlib.Path(sys.argv[1]), sys.argv[2]
peer = {}
for line in open(peer_file):
    if line.startswith("RESULT "):
        _, name, median, best = line.split()
        peer[name] = (float(median), float(best))
print(f"{'model':24} {'graft med':>10} {'torch med':>10} {'ratio':>6}   {'graft best':>10} {'torch best':>10} {'ratio':>6}")
for name, (t_med, t_best) in peer.items():
    d = crit / name / "new"
    if not (d / "estimates.json").exists():
        print(f"{name:24} {'-':>10} {t_med:10.1f}")
        continue
    n = json.loads((d / "benchmark.json").read_text())["throughput"]["Elements"]
    g_med = n / (json.loads((d / "estimates.json").read_text())["median"]["point_estimate"] * 1e-9)
    sample = json.loads((d / "sample.json").read_text())
    g_best = n / (min(t / i for t, i in zip(sample["times"], sample["iters"])) * 1e-9)
    print(f"{name:24} {g_med:10.1f} {t_med:10.1f} {g_med / t_med:5.2f}x   {g_best:10.1f} {t_best:10.1f} {g_best / t_best:5.2f}x")
PY
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$PY_OUT"
