#!/usr/bin/env bash
# Image loader throughput side by side, in one shell run: Graft's loader (`graft images
# bench`, release build) and torchvision's ImageFolder + DataLoader(num_workers=2) with the
# equivalent SimCLR CIFAR transforms, on the same 32x32 PNG folder and the same CIFAR-10
# binary file (5120 images, made once by torchvision_loader.py make), batch 256; then
# ResNet-18 (CIFAR stem, 10 classes, SGD, batch 64) training on a fixed batch vs fed by
# Graft's loader.
#
#   benchmarks/peers/run_images.sh
#   BATCHES=20 REPEATS=5 benchmarks/peers/run_images.sh
#
# Needs benchmarks/peers/.venv (torch 2.11.0, torchvision 0.26.0, pillow; see run_models.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="$ROOT/benchmarks/peers/.venv"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export CARGO_TARGET_DIR="$TARGET"
DATA="${GRAFT_BENCH_DIR:-/tmp/graft-bench-images}"
BATCHES="${BATCHES:-10}"
REPEATS="${REPEATS:-3}"
WORKERS="${WORKERS:-2}"

cargo build --release --bin graft >&2
GRAFT="$TARGET/release/graft"
if [ ! -f "$DATA/cifar/data_batch_1.bin" ]; then
  "$VENV/bin/python" benchmarks/peers/torchvision_loader.py make "$DATA"
fi

echo "== machine: $(nproc) cores, $(uname -sr), load: $(cut -d' ' -f1-3 /proc/loadavg)"
OUT="$(mktemp)"
for r in $(seq "$REPEATS"); do
  for src in folder cifar/data_batch_1.bin; do
    name="${src%%/*}"
    rate=$("$GRAFT" --threads 1 images bench "$DATA/$src" --preset simclr_cifar --size 32 \
      --batch 256 --workers "$WORKERS" --batches "$BATCHES" | awk '/^RESULT loader/ {print $3}')
    echo "graft_$name $rate" | tee -a "$OUT"
  done
done
echo "== torchvision $( "$VENV/bin/python" -c 'import torchvision; print(torchvision.__version__)'): DataLoader(num_workers=$WORKERS)"
"$VENV/bin/python" -W ignore benchmarks/peers/torchvision_loader.py run "$DATA" \
  --workers "$WORKERS" --batches "$BATCHES" --repeats "$REPEATS" | tee -a "$OUT"

echo "== images/s (median of $REPEATS runs of $BATCHES batches of 256); ratio = Graft / torchvision"
python3 - "$OUT" <<'PY'
import statistics, sys
graft, tv = {}, {}
for line in open(sys.argv[1]):
    parts = line.split()
    if parts[0].startswith("graft_"):
        graft.setdefault(parts[0][6:], []).append(float(parts[1]))
    elif parts[0] == "RESULT":
        tv[parts[1].removeprefix("torchvision_")] = float(parts[2])
print(f"{'data':8} {'graft':>10} {'torchvision':>12} {'ratio':>7}")
for k in ("folder", "cifar"):
    g = statistics.median(graft[k])
    print(f"{k:8} {g:10.0f} {tv[k]:12.0f} {g / tv[k]:6.2f}x")
PY
echo "== ResNet-18 (CIFAR stem) training, batch 64, 2 libtorch threads: fixed batch vs fed by the loader"
"$GRAFT" --threads 2 images bench "$DATA/folder" --preset simclr_cifar --size 32 --batch 64 \
  --workers "$WORKERS" --batches 5 --train --train-batch 64 --train-steps "${TRAIN_STEPS:-5}"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$OUT"
